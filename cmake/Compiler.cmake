# Compiler cache and warnings shared by every target.
find_program(CCACHE_PROGRAM ccache)
if(CCACHE_PROGRAM AND NOT CMAKE_CXX_COMPILER_LAUNCHER)
  set(CMAKE_CXX_COMPILER_LAUNCHER ${CCACHE_PROGRAM})
  # Precompiled headers need these to be cache-friendly (ccache manual, "Precompiled headers").
  set(ENV{CCACHE_SLOPPINESS} "pch_defines,time_macros,include_file_mtime,include_file_ctime")
  message(STATUS "rave: compiling through ccache (${CCACHE_PROGRAM})")
endif()

add_library(rave_warnings INTERFACE)
target_compile_options(rave_warnings INTERFACE -Wall -Wextra -Wno-unused-parameter)
