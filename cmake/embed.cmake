# Turns file IN into a C source OUT defining `const char ds_openapi_json[]` and its length.
file(READ ${IN} content HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${content}")
string(LENGTH "${content}" hexlen)
math(EXPR len "${hexlen} / 2")
file(WRITE ${OUT} "#include <stddef.h>\nconst char ds_openapi_json[] = {${bytes} 0};\nconst size_t ds_openapi_json_len = ${len};\n")
