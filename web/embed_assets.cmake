# Writes OUT: a C file holding web/static/style.css and refresh.js as
# strings, with jr_assets_find() over them.
# Run as: cmake -DSTATIC_DIR=... -DOUT=... -P embed_assets.cmake
set(body "/* Generated from web/static/ by web/embed_assets.cmake. Do not edit. */\n#include \"assets.h\"\n\n#include <string.h>\n\n")
set(table "")
foreach(pair "style.css|text/css; charset=utf-8" "refresh.js|text/javascript; charset=utf-8")
  string(REPLACE "|" ";" parts "${pair}")
  list(GET parts 0 name)
  list(GET parts 1 type)
  file(READ ${STATIC_DIR}/${name} hex HEX)
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
  string(MAKE_C_IDENTIFIER ${name} id)
  string(APPEND body "static const char a_${id}[] = {${bytes}0x00};\n")
  string(APPEND table "    {\"/static/${name}\", a_${id}, sizeof a_${id} - 1, \"${type}\"},\n")
endforeach()
string(APPEND body "\nstatic const struct {\n    const char *path, *bytes;\n    size_t len;\n    const char *type;\n} g_assets[] = {\n${table}};\n\n")
string(APPEND body "const char *jr_assets_find(const char *path, size_t *len, const char **type)\n{\n    for (size_t i = 0; i < sizeof g_assets / sizeof g_assets[0]; i++) {\n        if (strcmp(path, g_assets[i].path) == 0) {\n            *len = g_assets[i].len;\n            *type = g_assets[i].type;\n            return g_assets[i].bytes;\n        }\n    }\n    return NULL;\n}\n")
file(WRITE ${OUT}.tmp "${body}")
execute_process(COMMAND ${CMAKE_COMMAND} -E copy_if_different ${OUT}.tmp ${OUT})
