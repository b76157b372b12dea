# Third-party packages. Debian's packages by default (scripts/setup.sh installs them); any LibTorch
# (for example a CUDA build) via -DCMAKE_PREFIX_PATH=/path/to/libtorch.
# any LibTorch: Debian's 1.13 (CPU), the pip wheel's 2.x (CUDA, scripts/setup.sh with TORCH=pip), the official zip.
find_package(Torch REQUIRED)
include(TorchSetup)
find_package(MPI REQUIRED COMPONENTS CXX)
find_package(HDF5 REQUIRED COMPONENTS C CXX)
find_package(spdlog REQUIRED)
find_package(Boost REQUIRED COMPONENTS program_options)
find_package(nlohmann_json REQUIRED)
find_package(Threads REQUIRED)

# OpenCV: only core, imgproc and, unless RAVE_OPENCV_IMGCODECS is OFF, imgcodecs. Debian ships their headers and
# libraries in the per-module -dev packages; OpenCVConfig.cmake comes only with the libopencv-dev meta package (46
# more packages), so look for the parts directly unless a full OpenCV is found.
set(RAVE_OPENCV_PARTS core imgproc)
if(RAVE_OPENCV_IMGCODECS)
  list(APPEND RAVE_OPENCV_PARTS imgcodecs)
endif()
find_package(OpenCV QUIET COMPONENTS ${RAVE_OPENCV_PARTS})
add_library(rave_opencv INTERFACE)
if(OpenCV_FOUND)
  list(TRANSFORM RAVE_OPENCV_PARTS PREPEND opencv_ OUTPUT_VARIABLE opencv_targets)
  target_link_libraries(rave_opencv INTERFACE ${opencv_targets})
else()
  find_path(OPENCV_INCLUDE_DIR opencv2/core.hpp PATH_SUFFIXES opencv4 REQUIRED)
  foreach(part IN LISTS RAVE_OPENCV_PARTS)
    find_library(OPENCV_${part}_LIBRARY opencv_${part} REQUIRED)
    target_link_libraries(rave_opencv INTERFACE ${OPENCV_${part}_LIBRARY})
  endforeach()
  target_include_directories(rave_opencv SYSTEM INTERFACE ${OPENCV_INCLUDE_DIR})
endif()

# libpng and libjpeg: the image codec of a RAVE_OPENCV_IMGCODECS=OFF build (io/image_codec_png_jpeg.cpp), and the
# JPEG decoder of every build.
find_package(PNG REQUIRED)
find_package(JPEG REQUIRED)
if(NOT RAVE_OPENCV_IMGCODECS)
  message(STATUS "rave: images through libpng and libjpeg (RAVE_OPENCV_IMGCODECS=OFF): PNG and JPEG only")
endif()

# HDF5 as one imported target (the FindHDF5 module only provides variables on CMake 3.18).
add_library(rave_hdf5 INTERFACE)
target_include_directories(rave_hdf5 SYSTEM INTERFACE ${HDF5_INCLUDE_DIRS})
target_compile_definitions(rave_hdf5 INTERFACE ${HDF5_DEFINITIONS})
target_link_libraries(rave_hdf5 INTERFACE ${HDF5_LIBRARIES} ${HDF5_CXX_LIBRARIES})


# NCCL is optional: it needs CUDA and a CUDA build of LibTorch. Prefer the library LibTorch itself loads: the
# pip wheel's nvidia-nccl-cu13 beside it (which ships only libnccl.so.2, hence the full name), unless NCCL_HOME names another, then
# the CUDA toolkit's. Its header is taken from the same installation.
set(RAVE_HAVE_NCCL OFF)
if(NOT RAVE_WITH_NCCL STREQUAL "OFF")
  find_package(CUDAToolkit QUIET)
  get_filename_component(RAVE_TORCH_SITE "${TORCH_INSTALL_PREFIX}/.." ABSOLUTE)
  find_library(NCCL_LIBRARY NAMES nccl libnccl.so.2 NAMES_PER_DIR
               HINTS $ENV{NCCL_HOME}/lib ${RAVE_TORCH_SITE}/nvidia/nccl/lib ${CUDAToolkit_LIBRARY_DIR})
  if(NCCL_LIBRARY)
    get_filename_component(RAVE_NCCL_ROOT "${NCCL_LIBRARY}" DIRECTORY)
    find_path(NCCL_INCLUDE_DIR nccl.h HINTS ${RAVE_NCCL_ROOT}/../include $ENV{NCCL_HOME}/include
              ${CUDAToolkit_INCLUDE_DIRS})
  endif()
  if(CUDAToolkit_FOUND AND NCCL_INCLUDE_DIR AND NCCL_LIBRARY)
    set(RAVE_HAVE_NCCL ON)
    add_library(rave_nccl INTERFACE)
    target_include_directories(rave_nccl SYSTEM INTERFACE ${NCCL_INCLUDE_DIR})
    target_link_libraries(rave_nccl INTERFACE ${NCCL_LIBRARY} CUDA::cudart)
    message(STATUS "rave: NCCL backend enabled (${NCCL_LIBRARY})")
  elseif(RAVE_WITH_NCCL STREQUAL "ON")
    message(FATAL_ERROR "rave: RAVE_WITH_NCCL=ON but CUDA/NCCL were not found "
                        "(CUDAToolkit_FOUND=${CUDAToolkit_FOUND}, nccl.h=${NCCL_INCLUDE_DIR}, libnccl=${NCCL_LIBRARY}); "
                        "set NCCL_HOME or CUDAToolkit_ROOT")
  else()
    message(STATUS "rave: NCCL backend disabled (CUDA toolkit or NCCL not found); MPI backend only")
  endif()
else()
  message(STATUS "rave: NCCL backend disabled (RAVE_WITH_NCCL=OFF); MPI backend only")
endif()
