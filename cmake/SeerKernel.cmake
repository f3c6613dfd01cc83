# Per-file SIMD flags and the kernel folders.
if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64)$")
  set(SEER_X86_64 ON)
  set(SEER_SIMD_DEFINITIONS SEER_HAVE_AVX2=1 SEER_HAVE_AVX512=1)
else()
  set(SEER_X86_64 OFF)
  set(SEER_SIMD_DEFINITIONS "")
endif()

set(SEER_AVX2_FLAGS -mavx2 -mfma -mf16c)
set(SEER_AVX512_FLAGS -mavx512f -mavx512bw -mavx512vl -mavx512bf16 -mf16c -mavx2 -mfma)

# seer_add_kernel(NAME TARGET tgt): adds the C files of kernels/NAME to tgt: NAME_avx2.c and NAME_avx512.c only on
# x86-64 and with their SIMD flags, the others (the ref, entry points, helpers) with the library's flags. SIMD flags
# are set per file, never globally, so the library itself runs on any x86-64 and picks a variant at run time
# (cpu_features.c). A new file in a kernel folder needs a re-run of cmake's configure step, which the build does
# by itself (CONFIGURE_DEPENDS).
function(seer_add_kernel NAME)
  cmake_parse_arguments(K "" "TARGET" "" ${ARGN})
  file(GLOB sources CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/kernels/${NAME}/*.c)
  foreach(src IN LISTS sources)
    if(src MATCHES "_avx2\\.c$")
      set(flags ${SEER_AVX2_FLAGS})
    elseif(src MATCHES "_avx512\\.c$")
      set(flags ${SEER_AVX512_FLAGS})
    else()
      target_sources(${K_TARGET} PRIVATE ${src})
      continue()
    endif()
    if(SEER_X86_64)
      target_sources(${K_TARGET} PRIVATE ${src})
      set_source_files_properties(${src} PROPERTIES COMPILE_OPTIONS "${flags}")
    endif()
  endforeach()
endfunction()

# seer_kernel_folders(VAR): the op folders, kernels/<name>/ holding <name>_ref.c, sorted by name.
function(seer_kernel_folders VAR)
  file(GLOB refs CONFIGURE_DEPENDS RELATIVE ${PROJECT_SOURCE_DIR}/kernels ${PROJECT_SOURCE_DIR}/kernels/*/*_ref.c)
  set(names "")
  foreach(ref IN LISTS refs)
    get_filename_component(dir ${ref} DIRECTORY)
    if(ref STREQUAL "${dir}/${dir}_ref.c")
      list(APPEND names ${dir})
    endif()
  endforeach()
  list(SORT names)
  set(${VAR} ${names} PARENT_SCOPE)
endfunction()
