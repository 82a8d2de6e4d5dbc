# cmake -DCOMPEL=... -DARCH=... -DCFLAGS=... -DCXXFLAGS=... -DLDFLAGS=... -DPARASITE_LDFLAGS=...
#       -P compare-flags.cmake
function(expect cmd expected)
	execute_process(COMMAND "${COMPEL}" --arch ${ARCH} ${cmd}
		OUTPUT_VARIABLE out OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE rc)
	if(NOT rc EQUAL 0 OR NOT out STREQUAL expected)
		message(FATAL_ERROR "compel --arch ${ARCH} ${cmd} prints\n  ${out}\nbut compel_add_blob() uses\n  ${expected}")
	endif()
endfunction()
expect(cflags "${CFLAGS}")
expect(cxxflags "${CXXFLAGS}")
list(JOIN LDFLAGS " " ld)
expect(ldflags "${ld}")
list(JOIN PARASITE_LDFLAGS " " pld)
expect("ldflags;--parasite" "${pld}")
