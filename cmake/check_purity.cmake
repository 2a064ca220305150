# Checks that a domain file cannot include I/O: compiles, with the domain's
# include path, a file that includes HEADER after a domain header, and
# expects the build to stop with the purity error; and a control file with
# the domain header alone, which must build.
#   cmake -DCC=... -DDOMAIN_DIR=... -DLIB_DIR=... -DHEADERS=zmq.h,libpq-fe.h,... -DWORK=... -P check_purity.cmake
set(flags -fsyntax-only -std=c11 -I${DOMAIN_DIR}/purity -I${DOMAIN_DIR} -I${LIB_DIR})
file(MAKE_DIRECTORY ${WORK})
file(WRITE ${WORK}/control.c "#include \"merge.h\"\nint jr_purity_control;\n")
execute_process(COMMAND ${CC} ${flags} ${WORK}/control.c RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "the control file does not build with the domain's flags:\n${err}")
endif()
string(REPLACE "," ";" HEADERS "${HEADERS}")
foreach(h ${HEADERS})
  string(MAKE_C_IDENTIFIER "${h}" name)
  file(WRITE ${WORK}/${name}.c "#include \"merge.h\"\n#include <${h}>\nint jr_purity_${name};\n")
  execute_process(COMMAND ${CC} ${flags} ${WORK}/${name}.c RESULT_VARIABLE rc ERROR_VARIABLE err)
  if(rc EQUAL 0)
    message(FATAL_ERROR "a domain file including <${h}> builds: the domain must not do I/O")
  endif()
  if(NOT err MATCHES "the domain does no I/O")
    message(FATAL_ERROR "including <${h}> failed, but not for purity:\n${err}")
  endif()
  message(STATUS "<${h}>: refused in the domain")
endforeach()
