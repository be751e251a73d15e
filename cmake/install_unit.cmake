# Runs at install time: writes the systemd unit naming the binary by its installed path, which
# only then is known (`cmake --install --prefix P` puts it under P, the .deb under /usr).
foreach(var SOUNDTRACKD_UNIT_TEMPLATE SOUNDTRACKD_BUILD_DIR)
  if(NOT ${var})
    message(FATAL_ERROR "install_unit.cmake needs ${var}")
  endif()
endforeach()
set(BINDIR "${CMAKE_INSTALL_PREFIX}/bin")
set(DOCDIR "${CMAKE_INSTALL_PREFIX}/share/doc/soundtrackd")
# One scratch copy per destination: installs into different trees may run at the same time.
string(SHA1 destination "$ENV{DESTDIR}${CMAKE_INSTALL_PREFIX}")
set(scratch "${SOUNDTRACKD_BUILD_DIR}/unit/${destination}/soundtrackd.service")
configure_file("${SOUNDTRACKD_UNIT_TEMPLATE}" "${scratch}" @ONLY)
file(INSTALL DESTINATION "${CMAKE_INSTALL_PREFIX}/lib/systemd/system" TYPE FILE FILES "${scratch}")
