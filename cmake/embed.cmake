# Turns file IN into a C source OUT defining `const char NAME[]` (NUL-terminated) and
# `const size_t NAME_len`. NAME defaults to ds_openapi_json.
if(NOT DEFINED NAME)
  set(NAME ds_openapi_json)
endif()
file(READ ${IN} content HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${content}")
string(LENGTH "${content}" hexlen)
math(EXPR len "${hexlen} / 2")
file(WRITE ${OUT} "#include <stddef.h>\nconst char ${NAME}[] = {${bytes} 0};\nconst size_t ${NAME}_len = ${len};\n")
