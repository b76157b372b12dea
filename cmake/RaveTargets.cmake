# Helpers that give every module library and test the same shape.

# rave_module(NAME SOURCES ... DEPS ...): static library rave_<NAME>, namespace rave::<NAME>.
# Torch-heavy modules pass PCH to precompile <torch/torch.h>.
function(rave_module name)
  cmake_parse_arguments(ARG "PCH" "" "SOURCES;DEPS" ${ARGN})
  if(NOT ARG_SOURCES)
    # A module without code yet still takes its place in the dependency chain.
    add_library(rave_${name} INTERFACE)
    target_link_libraries(rave_${name} INTERFACE ${ARG_DEPS})
    return()
  endif()
  add_library(rave_${name} STATIC ${ARG_SOURCES})
  target_include_directories(rave_${name} PUBLIC ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR}/generated)
  target_link_libraries(rave_${name} PUBLIC ${ARG_DEPS} PRIVATE rave_warnings)
  if(ARG_PCH)
    target_precompile_headers(rave_${name} PRIVATE <torch/torch.h>)
  endif()
endfunction()
