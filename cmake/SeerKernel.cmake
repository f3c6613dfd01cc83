# seer_add_kernel(NAME TARGET tgt): adds kernels/NAME/NAME_ref.c and, on x86-64, NAME_avx2.c and NAME_avx512.c
# to tgt. SIMD flags are set per file, never globally, so the library itself runs on any x86-64 and picks a
# variant at run time (cpu_features.c).
if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64)$")
  set(SEER_X86_64 ON)
  set(SEER_SIMD_DEFINITIONS SEER_HAVE_AVX2=1 SEER_HAVE_AVX512=1)
else()
  set(SEER_X86_64 OFF)
  set(SEER_SIMD_DEFINITIONS "")
endif()

set(SEER_AVX2_FLAGS -mavx2 -mfma -mf16c)
set(SEER_AVX512_FLAGS -mavx512f -mavx512bw -mavx512vl -mavx512bf16 -mf16c -mavx2 -mfma)

function(seer_add_kernel NAME)
  cmake_parse_arguments(K "" "TARGET" "" ${ARGN})
  set(dir ${PROJECT_SOURCE_DIR}/kernels/${NAME})
  target_sources(${K_TARGET} PRIVATE ${dir}/${NAME}_ref.c)
  if(SEER_X86_64)
    target_sources(${K_TARGET} PRIVATE ${dir}/${NAME}_avx2.c ${dir}/${NAME}_avx512.c)
    set_source_files_properties(${dir}/${NAME}_avx2.c PROPERTIES COMPILE_OPTIONS "${SEER_AVX2_FLAGS}")
    set_source_files_properties(${dir}/${NAME}_avx512.c PROPERTIES COMPILE_OPTIONS "${SEER_AVX512_FLAGS}")
  endif()
endfunction()
