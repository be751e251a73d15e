# Writes OUTPUT: a C++ file defining soundtrackd::db::embedded_migrations() from the FILES
# (migrations/NNNN_name.sql), so the binaries carry their schema.
set(body "")
foreach(file IN LISTS FILES)
  get_filename_component(name ${file} NAME_WE)
  string(REGEX MATCH "^[0-9]+" number ${name})
  if(NOT number)
    message(FATAL_ERROR "migration ${file}: name must start with its number (NNNN_name.sql)")
  endif()
  math(EXPR number "${number}")
  file(READ ${file} sql)
  string(APPEND body "    {${number}, \"${name}\", R\"soundtrackd_sql(${sql})soundtrackd_sql\"},\n")
endforeach()
file(WRITE ${OUTPUT}.tmp "// Generated from migrations/*.sql by cmake/embed_migrations.cmake; do not edit.
#include \"soundtrackd/db/migrations.hpp\"

namespace soundtrackd::db {

const std::vector<migration>& embedded_migrations() {
  static const std::vector<migration> all{
${body}  };
  return all;
}

}  // namespace soundtrackd::db
")
file(COPY_FILE ${OUTPUT}.tmp ${OUTPUT} ONLY_IF_DIFFERENT)
