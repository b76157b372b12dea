# Helpers that give every module library and test the same shape.

# <torch/torch.h> is precompiled once, by rave_pch, and every C++ target of the tree reuses it
# (rave_reuse_precompiled_torch): parsing LibTorch 2.x's headers takes about a minute per file on a 2-core
# machine, loading the precompiled header a second. Targets may add definitions of their own: GCC accepts the
# header as long as those do not change LibTorch's headers (-Winvalid-pch would say otherwise).
add_library(rave_pch STATIC ${PROJECT_SOURCE_DIR}/cmake/pch.cpp)
target_link_libraries(rave_pch PRIVATE rave_torch rave_warnings)
target_precompile_headers(rave_pch PRIVATE <torch/torch.h>)

# rave_module(NAME SOURCES ... DEPS ...): static library rave_<NAME>, namespace rave::<NAME>.
function(rave_module name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  if(NOT ARG_SOURCES)
    # A module without code yet still takes its place in the dependency chain.
    add_library(rave_${name} INTERFACE)
    target_link_libraries(rave_${name} INTERFACE ${ARG_DEPS})
    return()
  endif()
  add_library(rave_${name} STATIC ${ARG_SOURCES})
  target_include_directories(rave_${name} PUBLIC ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR}/generated)
  target_link_libraries(rave_${name} PUBLIC ${ARG_DEPS} PRIVATE rave_warnings)
endfunction()

# Makes every compiled target defined in DIRECTORY and its subdirectories reuse rave_pch's header.
function(rave_reuse_precompiled_torch directory)
  get_property(targets DIRECTORY ${directory} PROPERTY BUILDSYSTEM_TARGETS)
  foreach(target IN LISTS targets)
    get_target_property(type ${target} TYPE)
    if(NOT target STREQUAL "rave_pch" AND type MATCHES "^(STATIC_LIBRARY|EXECUTABLE)$")
      target_precompile_headers(${target} REUSE_FROM rave_pch)
    endif()
  endforeach()
  get_property(subdirectories DIRECTORY ${directory} PROPERTY SUBDIRECTORIES)
  foreach(subdirectory IN LISTS subdirectories)
    rave_reuse_precompiled_torch(${subdirectory})
  endforeach()
endfunction()
