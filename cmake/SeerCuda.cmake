# CUDA detection. SEER_WITH_CUDA=AUTO builds libseer_cuda only when a CUDA compiler is found; configure never
# fails for lack of one unless SEER_WITH_CUDA=ON. cudart is linked statically so the library loads (and reports
# 0 devices) on a machine without a driver.
set(SEER_CUDA_ENABLED OFF)
if(NOT SEER_WITH_CUDA STREQUAL "OFF")
  if(NOT CMAKE_CUDA_COMPILER)
    find_program(SEER_NVCC nvcc HINTS /usr/local/cuda/bin ENV CUDA_PATH PATH_SUFFIXES bin)
    if(SEER_NVCC)
      set(CMAKE_CUDA_COMPILER ${SEER_NVCC})
    endif()
  endif()
  include(CheckLanguage)
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    # SASS for Ampere and Hopper, plus compute_90 PTX for newer GPUs to JIT.
    if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
      set(CMAKE_CUDA_ARCHITECTURES 80-real 90-real 90-virtual)
    endif()
    set(CMAKE_CUDA_RUNTIME_LIBRARY Static)
    enable_language(CUDA)
    set(CMAKE_CUDA_STANDARD 17)
    set(CMAKE_CUDA_STANDARD_REQUIRED ON)
    set(SEER_CUDA_ENABLED ON)
    message(STATUS "Seer: building libseer_cuda with ${CMAKE_CUDA_COMPILER} for ${CMAKE_CUDA_ARCHITECTURES}")
  elseif(SEER_WITH_CUDA STREQUAL "ON")
    message(FATAL_ERROR "SEER_WITH_CUDA=ON but no CUDA compiler was found")
  else()
    message(STATUS "Seer: no CUDA compiler found, libseer_cuda is skipped")
  endif()
endif()

# --fmad=false keeps f32 results bit-identical to the C reference (no contraction of a*b+c); division and
# sqrt stay IEEE (no --use_fast_math).
function(seer_cuda_target tgt)
  set_target_properties(${tgt} PROPERTIES CUDA_RUNTIME_LIBRARY Static CUDA_VISIBILITY_PRESET hidden)
  target_compile_options(${tgt} PRIVATE
    "$<$<COMPILE_LANGUAGE:CUDA>:--fmad=false;-Xcompiler=-fPIC,-fvisibility=hidden,-Wall,-Wextra>")
endfunction()
