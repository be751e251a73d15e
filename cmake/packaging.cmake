# What `cmake --install` and the .deb (`cpack -G DEB`) put where: Debian's layout under the
# prefix (/usr for the package), the config under /etc whatever the prefix.
install(TARGETS soundtrackd soundtrackctl RUNTIME DESTINATION bin)
# The daemon reads /etc/soundtrackd/soundtrackd.toml by default.
install(FILES config/soundtrackd.toml DESTINATION /etc/soundtrackd)
install(FILES systemd/soundtrackd.sysusers DESTINATION lib/sysusers.d RENAME soundtrackd.conf)
install(FILES systemd/soundtrackd.tmpfiles DESTINATION lib/tmpfiles.d RENAME soundtrackd.conf)
install(CODE "set(SOUNDTRACKD_UNIT_TEMPLATE [[${CMAKE_SOURCE_DIR}/systemd/soundtrackd.service.in]])
              set(SOUNDTRACKD_BUILD_DIR [[${CMAKE_BINARY_DIR}]])")
install(SCRIPT cmake/install_unit.cmake)
# The binaries embed the migrations; the SQL is installed for people who read it.
install(DIRECTORY migrations/ DESTINATION share/soundtrackd/migrations)
install(FILES README.md DESTINATION share/doc/soundtrackd)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME soundtrackd)
set(CPACK_PACKAGE_VENDOR soundtrackd)
set(CPACK_PACKAGE_CONTACT "soundtrackd maintainers <soundtrackd@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "music generation queue worker for Scenario's Minimax Music 2.6")
set(CPACK_PACKAGE_DESCRIPTION "soundtrackd turns rows of a SQLite queue into generated, verified audio.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION sound)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)  # libssl3, libsqlite3-0, ... from the binaries
set(CPACK_DEBIAN_PACKAGE_DEPENDS "systemd")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "sqlite3")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  ${CMAKE_SOURCE_DIR}/packaging/deb/conffiles ${CMAKE_SOURCE_DIR}/packaging/deb/postinst
  ${CMAKE_SOURCE_DIR}/packaging/deb/prerm ${CMAKE_SOURCE_DIR}/packaging/deb/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
