# What rave takes from the LibTorch that find_package(Torch) found: the C++ standard it needs, one interface
# target (rave_torch), and whether it has CUDA (RAVE_TORCH_CUDA).

# TorchConfig's own find_library(c10) searches the system before the LibTorch's folder, so a CMAKE_PREFIX_PATH
# that names only .../torch/share/cmake can pair the wheel's headers with a system LibTorch's libc10.
foreach(lib IN LISTS TORCH_LIBRARIES)
  if(lib MATCHES "libc10\\.so$")
    string(FIND "${lib}" "${TORCH_INSTALL_PREFIX}" at)
    if(NOT at EQUAL 0)
      message(FATAL_ERROR "rave: LibTorch at ${TORCH_INSTALL_PREFIX} but its c10 resolved to ${lib}. "
                          "Pass the LibTorch folder itself: -DCMAKE_PREFIX_PATH=${TORCH_INSTALL_PREFIX}")
    endif()
  endif()
endforeach()

# The C++ standard follows the LibTorch found: 17 (what 1.13 to 2.11 require) or more where its target asks.
set(RAVE_CXX_STANDARD 17)
get_target_property(torch_standard torch CXX_STANDARD)
get_target_property(torch_features torch INTERFACE_COMPILE_FEATURES)
if(torch_features MATCHES "cxx_std_([0-9]+)" AND CMAKE_MATCH_1 GREATER torch_standard)
  set(torch_standard ${CMAKE_MATCH_1})
endif()
if(torch_standard AND torch_standard GREATER RAVE_CXX_STANDARD)
  set(RAVE_CXX_STANDARD ${torch_standard})
endif()
set(CMAKE_CXX_STANDARD ${RAVE_CXX_STANDARD})
set(CMAKE_CXX_STANDARD_REQUIRED ON)
set(CMAKE_CXX_EXTENSIONS OFF)

add_library(rave_torch INTERFACE)
# The pip wheel's libtorch.so exports the parts of libstdc++ its newer GCC linked in statically (std::filesystem,
# std::chrono's time zones) without symbol versions. An executable that lists libtorch.so before libstdc++.so
# binds its own std::filesystem calls to those copies, which crash (remove_all called a null pointer). Naming
# libstdc++ ahead of LibTorch puts the system's first in the lookup order.
target_link_libraries(rave_torch INTERFACE stdc++ ${TORCH_LIBRARIES})
target_include_directories(rave_torch SYSTEM INTERFACE ${TORCH_INCLUDE_DIRS})
if(TARGET torch_cuda OR TARGET c10_cuda OR TORCH_LIBRARIES MATCHES "c10_cuda")
  set(RAVE_TORCH_CUDA ON)
  target_compile_definitions(rave_torch INTERFACE RAVE_TORCH_CUDA=1)
else()
  set(RAVE_TORCH_CUDA OFF)
endif()
message(STATUS "rave: LibTorch ${Torch_VERSION} at ${TORCH_INSTALL_PREFIX} (CUDA: ${RAVE_TORCH_CUDA}), "
               "C++${RAVE_CXX_STANDARD}")

# The wheel's include folder carries its own {fmt} (12.x) beside ATen and c10; spdlog must see the {fmt} it was
# built with (Debian's 9.x). A folder holding only that one goes first. LibTorch's headers that rave includes
# do not use {fmt}.
find_package(fmt REQUIRED)
get_target_property(fmt_include fmt::fmt INTERFACE_INCLUDE_DIRECTORIES)
if(EXISTS "${TORCH_INSTALL_PREFIX}/include/fmt" AND NOT "${TORCH_INSTALL_PREFIX}/include" STREQUAL "${fmt_include}")
  file(MAKE_DIRECTORY ${PROJECT_BINARY_DIR}/fmt-first)
  file(CREATE_LINK ${fmt_include}/fmt ${PROJECT_BINARY_DIR}/fmt-first/fmt SYMBOLIC)
  target_include_directories(rave_torch SYSTEM BEFORE INTERFACE ${PROJECT_BINARY_DIR}/fmt-first)
endif()
