# Checks the corpus replay itself, so that it cannot quietly pass again: on
# a small corpus made here it must count every input, and an input it cannot
# run must fail the run, by name.
#   cmake -DREPLAY=... -DSEEDS=tests/fuzz/corpus -DWORK=dir -P check_replay.cmake
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK}/good ${WORK}/bad ${WORK}/empty)
foreach(seed contribution enrolment bad_utf8)
  file(COPY ${SEEDS}/${seed} DESTINATION ${WORK}/good)
  file(COPY ${SEEDS}/${seed} DESTINATION ${WORK}/bad)
endforeach()
# A directory where an input should be: it cannot be run.
file(MAKE_DIRECTORY ${WORK}/bad/not-an-input)

function(replay dir want_rc want_out want_err)
  execute_process(COMMAND ${REPLAY} ${dir} RESULT_VARIABLE rc OUTPUT_VARIABLE out
                  ERROR_VARIABLE err)
  if(want_rc EQUAL 0 AND NOT rc EQUAL 0)
    message(FATAL_ERROR "replay ${dir}: exit ${rc}, want 0\n${out}${err}")
  elseif(NOT want_rc EQUAL 0 AND rc EQUAL 0)
    message(FATAL_ERROR "replay ${dir}: exit 0, want a failure\n${out}${err}")
  endif()
  if(NOT out MATCHES "${want_out}")
    message(FATAL_ERROR "replay ${dir}: printed\n${out}want ${want_out}")
  endif()
  if(NOT err MATCHES "${want_err}")
    message(FATAL_ERROR "replay ${dir}: said\n${err}want ${want_err}")
  endif()
endfunction()

replay(${WORK}/good 0 "replay: 3 inputs, 3 passed, 0 failed\n$" "^$")
replay(${WORK}/bad 1 "replay: 4 inputs, 3 passed, 1 failed\n$" "not-an-input: cannot be read")
replay(${WORK}/empty 1 "replay: 0 inputs, 0 passed, 0 failed\n$" "^$")
