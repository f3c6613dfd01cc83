# Strict IEEE float32 everywhere: the f32 kernels must be bit-identical to the reference numerics, so no
# contraction into FMA and no fast-math reassociation, in every file and every build type. A call of an undeclared
# function is an error (the op list in native/src/ops.c relies on it to tie the op table to seer.h).
set(CMAKE_C_STANDARD 11)
set(CMAKE_C_STANDARD_REQUIRED ON)
set(CMAKE_C_EXTENSIONS OFF)
set(CMAKE_POSITION_INDEPENDENT_CODE ON)
set(CMAKE_C_VISIBILITY_PRESET hidden)
set(CMAKE_VISIBILITY_INLINES_HIDDEN ON)

set(CMAKE_C_FLAGS_RELEASE "-O3")
set(CMAKE_C_FLAGS_RELWITHDEBINFO "-O3 -g")
add_compile_options(
  "$<$<COMPILE_LANGUAGE:C>:-fno-fast-math;-ffp-contract=off;-fPIC;-fvisibility=hidden;-Wall;-Wextra;-Werror=implicit-function-declaration>")
