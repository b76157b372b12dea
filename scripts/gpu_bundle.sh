#!/usr/bin/env bash
# Carries rave's Debian libraries to a machine that has none of them: the lent GPU machine, which has a CUDA torch,
# nvcc, cmake and ninja but no Debian packages and no network (docs/building.md, "Building on a GPU machine without
# our packages"). Run here, on Debian 12 (amd64) with apt: downloads the runtime and development packages with
# apt-get download (nothing is installed), unpacks them with dpkg -x into DIR/prefix, keeps what building and running
# rave needs, checks that every library kept finds its own dependencies in the bundle or in glibc, libgcc and
# libstdc++ (which any machine with a compiler has), and writes env.sh beside them. Unpacked that is about 72 MiB, more
# than the 64 MiB that may travel to that machine with the checkout, so the folder DIR holds it packed: DIR/deps.tar.gz
# (about 26 MiB, the prefix and env.sh) and DIR/CONTENTS (what it holds). scripts/gpu_build.sh unpacks it into its build
# folder there. Prints the sizes and the contents, and fails when DIR is over 60 MiB.
#   scripts/gpu_bundle.sh [DIR]     default DIR: .gpu-bundle
# Then, there: scripts/gpu_build.sh DIR BUILD_DIR, and `. BUILD_DIR/deps/env.sh` before running rave.
set -euo pipefail
cd "$(dirname "$0")/.."

dir=${1:-.gpu-bundle}
limit_mib=60
triplet=x86_64-linux-gnu

# rave's dependencies; the image codecs are libpng and libjpeg, for a build configured with
# -DRAVE_OPENCV_IMGCODECS=OFF (Debian's libopencv-imgcodecs406 pulls GDAL, GDCM and OpenEXR: about 200 MiB).
packages=(
  # Open MPI 4.1. A singleton MPI_Init (rave without mpirun) starts orted, which loads the MCA components.
  # Its libevent comes from bullseye, below.
  libopenmpi3 libopenmpi-dev openmpi-bin openmpi-common libpmix2 libmunge2 libhwloc15 libudev1
  # HDF5's C and C++ libraries. libhdf5 links libcurl (its S3 driver), and libcurl what follows.
  libhdf5-103-1 libhdf5-cpp-103-1 libhdf5-dev libsz2 libaec0
  libcurl4 libbrotli1 libnghttp2-14 libpsl5 librtmp1 libssh2-1 libzstd1 libidn2-0 libunistring2
  libgnutls30 libhogweed6 libnettle8 libgmp10 libp11-kit0 libtasn1-6 libffi8
  libldap-2.5-0 libsasl2-2
  libgssapi-krb5-2 libkrb5-3 libk5crypto3 libkrb5support0 libcom-err2 libkeyutils1
  # Logging, options, JSON
  libspdlog1.10 libspdlog-dev libfmt9 libfmt-dev
  libboost-program-options1.74.0 libboost-program-options1.74-dev libboost1.74-dev
  nlohmann-json3-dev
  # OpenCV core and imgproc; core links BLAS and LAPACK (Debian's reference ones here), TBB and libGLX.
  libopencv-core406 libopencv-core-dev libopencv-imgproc406 libopencv-imgproc-dev
  libtbb12 libblas3 liblapack3 libgfortran5 libquadmath0
  libglx0 libglvnd0 libx11-6 libxcb1 libxau6 libxdmcp6 libbsd0 libmd0
  # Image files, zip CRCs, SHA-256
  libpng16-16 libpng-dev libjpeg62-turbo libjpeg62-turbo-dev
  zlib1g zlib1g-dev libssl3 libssl-dev
  # The unit tests
  libgtest-dev
)

# libevent 2.1.12 as Debian 11 (bullseye) built it, which needs glibc 2.25: bookworm's build of the same release
# calls glibc 2.36's arc4random and would alone raise the bundle's glibc from 2.34 (Ubuntu 22.04, RHEL 9) to 2.36.
# Same soname and symbols. Fetched from Debian's pool by name, checked against the SHA-256 that bullseye's signed
# index (dists/bullseye/InRelease, main/binary-amd64/Packages.xz) lists.
bullseye_pool=http://deb.debian.org/debian/pool/main/libe/libevent
bullseye_debs=(
  "libevent-core-2.1-7_2.1.12-stable-1_amd64.deb 4885b583bc2422021d828aea19b1da61987456716f608caff86406dc44815fd7"
  "libevent-pthreads-2.1-7_2.1.12-stable-1_amd64.deb c3eb7512a9225510e7400d444a302bc98ce7ff15201a7efd2277fa105668966b"
)

if [ "$(dpkg --print-architecture)" != amd64 ]; then
  echo "gpu_bundle: needs Debian amd64 (the GPU machine is x86-64)" >&2
  exit 2
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/debs"
echo "gpu_bundle: downloading ${#packages[@]} Debian packages"
(cd "$work/debs" && apt-get download -q -o APT::Sandbox::User=root "${packages[@]}" >/dev/null)
for entry in "${bullseye_debs[@]}"; do
  read -r name sha256 <<< "$entry"
  curl -fsS -o "$work/debs/$name" "$bullseye_pool/$name"
  echo "$sha256  $work/debs/$name" | sha256sum -c --quiet - ||
    { echo "gpu_bundle: $name from $bullseye_pool does not match bullseye's index" >&2; exit 1; }
done

if [ -e "$dir" ] && [ ! -f "$dir/CONTENTS" ]; then
  echo "gpu_bundle: $dir exists and is no bundle; remove it or name another folder" >&2
  exit 2
fi
stage=$work/deps  # what deps.tar.gz holds: prefix/ and env.sh
prefix=$stage/prefix
mkdir -p "$prefix"
for deb in "$work"/debs/*.deb; do dpkg -x "$deb" "$prefix"; done
cd "$prefix"
# Debian 12 merges /lib into /usr/lib on installed systems; some packages (zlib1g, libcom-err2) still ship /lib.
if [ -d lib ]; then
  cp -a lib/. usr/lib/
  rm -rf lib
fi
lib=usr/lib/$triplet

# ---- what is kept ----
# Documentation, translations, packaging metadata, static libraries (GoogleTest's are the only ones it keeps),
# Fortran and Java bindings, OpenSHMEM, and programs that building and a singleton run do not use.
rm -rf usr/share/{doc,doc-base,man,lintian,bug,pkgconfig,gdb,locale} usr/src
rm -rf "$lib"/pkgconfig "$lib"/openmpi/lib/pkgconfig
[ ! -d etc ] || find etc -mindepth 1 -maxdepth 1 ! -name openmpi -exec rm -rf {} +
find usr/lib -name '*.a' ! -name 'libgtest*.a' -delete
rm -rf "$lib"/fortran "$lib"/libmpi_{mpifh,usempi,java}* "$lib"/liboshmem* "$lib"/libompitrace*
rm -rf "$lib"/libhdf5*{fortran,_hl}*
find usr/bin -mindepth 1 ! -name orted ! -name orterun ! -name opal_wrapper ! -name ompi_info \
  ! -name 'mpic++.openmpi' ! -name 'mpicxx.openmpi' ! -name 'mpicc.openmpi' ! -name 'mpirun.openmpi' \
  ! -name 'mpiexec.openmpi' -delete
# What update-alternatives would link on a system with only these packages.
for tool in mpicc mpicxx mpic++ mpirun mpiexec; do ln -s "$tool.openmpi" "usr/bin/$tool"; done
# Debian's pmix-mca-params.conf only names Debian's plugin folder, PMIx's default, by its absolute path; env.sh
# relocates that default (PMIX_PKGLIBDIR) instead.
rm "$lib/pmix2/share/pmix-mca-params.conf"
ln -s blas/libblas.so.3 "$lib/libblas.so.3"
ln -s lapack/liblapack.so.3 "$lib/liblapack.so.3"

# Boost: program_options and what it includes. The scan follows every <boost/...> name in the text, so it takes
# every branch of every #if; what headers include through names they build with macros comes from the compiler's own
# list (g++ -M), and the folders such names pick from for a compiler go whole: boost/config, and Boost.MPL's
# preprocessed headers for GCC and Clang (both gcc/).
boost_closure() {
  local -A seen=()
  local queue=(boost/program_options.hpp) header
  while [ ${#queue[@]} -gt 0 ]; do
    header=${queue[-1]}
    unset 'queue[-1]'
    if [ -n "${seen[$header]:-}" ] || [ ! -f "$header" ]; then continue; fi
    seen[$header]=1
    mapfile -t -O ${#queue[@]} queue < <(grep -oE '[<"]boost/[A-Za-z0-9_./-]+\.(hpp|h|ipp)[>"]' "$header" | tr -d '<>"')
  done
  printf '%s\n' "${!seen[@]}"
  for standard in c++17 c++20; do
    echo '#include <boost/program_options.hpp>' | g++ -std=$standard -M -isystem "$PWD" -x c++ - |
      tr ' ' '\n' | grep "^$PWD/boost/" | xargs realpath --relative-to="$PWD"
  done
  find boost/config boost/mpl/aux_/preprocessed/gcc -type f
}
(cd usr/include && boost_closure | sort -u > "$work/boost-headers" && mkdir "$work/boost" &&
  xargs cp --parents -t "$work/boost" < "$work/boost-headers" && rm -rf boost && mv "$work/boost/boost" boost)
# Open MPI: mpi.h and the C++ bindings it includes; not the headers of Open MPI's internals.
(cd "$lib/openmpi/include" && find . -mindepth 1 -maxdepth 1 ! -name mpi.h ! -name mpi_portable_platform.h \
  ! -name openmpi -exec rm -rf {} + && find openmpi -mindepth 1 -maxdepth 1 ! -name ompi -exec rm -rf {} + &&
  find openmpi/ompi -mindepth 1 -maxdepth 1 ! -name mpi -exec rm -rf {} + &&
  find openmpi/ompi/mpi -mindepth 1 -maxdepth 1 ! -name cxx -exec rm -rf {} +)

# ---- closure ----
# Where the libraries are found at run time (env.sh's LD_LIBRARY_PATH) and what every machine has.
libdirs=("$lib" "$lib/openmpi/lib" "$lib/pmix2/lib" "$lib/hdf5/serial")
base='^(libc|libm|libdl|libpthread|librt|libresolv|libutil|ld-linux-x86-64|libgcc_s|libstdc\+\+)\.so'
unresolved() {  # the NEEDED entries of ELF file $1 found neither in the bundle nor among the base libraries
  local needed found d
  while read -r needed; do
    [[ $needed =~ $base ]] && continue
    found=0
    for d in "${libdirs[@]}"; do [ -e "$d/$needed" ] && found=1; done
    [ $found = 1 ] || echo "$needed"
  done < <(readelf -d "$1" 2>/dev/null | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
}
# Open MPI's and PMIx's plugins for hardware and services this machine does not carry (UCX, libfabric, InfiniBand,
# PSM, netlink) go, and with them whatever needed them; Open MPI skips a component that is not there.
dropped=()
while true; do
  removed=0
  while IFS= read -r -d '' plugin; do
    missing=$(unresolved "$plugin")
    if [ -n "$missing" ]; then
      dropped+=("$(basename "$plugin") ($(echo "$missing" | tr '\n' ' ' | sed 's/ $//'))")
      rm -f "$plugin"
      removed=1
    fi
  done < <(find "$lib/openmpi/lib/openmpi3" "$lib/pmix2/lib/pmix" "$lib" -maxdepth 1 -type f \
             \( -name 'mca_*.so' -o -name 'pmix_mca_*.so' -o -name 'libmca_common_*.so*' \) -print0)
  [ $removed = 1 ] || break
done
find . -xtype l -delete                       # links to what was removed
find . -mindepth 1 -type d -empty -delete
failed=0
while IFS= read -r -d '' elf; do
  missing=$(unresolved "$elf")
  if [ -n "$missing" ]; then
    echo "gpu_bundle: ${elf#./} needs $(echo "$missing" | tr '\n' ' ')which the bundle lacks" >&2
    failed=1
  fi
done < <(find usr -type f \( -name '*.so*' -o -path 'usr/bin/*' \) -print0)
[ $failed = 0 ] || { echo "gpu_bundle: add the packages that provide them to the list in $0" >&2; exit 1; }

# The newest symbol versions the carried libraries need: the target's glibc and libstdc++ must have them.
versions() { find usr -type f \( -name '*.so*' -o -path 'usr/bin/*' \) -exec objdump -T {} + 2>/dev/null |
               grep -oE "\b$1_[0-9.]+" | sort -uV | tail -1; }
glibc=$(versions GLIBC)
glibcxx=$(versions GLIBCXX)
cd - >/dev/null

# ---- env.sh ----
cat > "$stage/env.sh" <<ENV
# Sourced (. BUILD_DIR/deps/env.sh) before building or running rave against this bundle (scripts/gpu_bundle.sh
# wrote it; scripts/gpu_build.sh unpacked it).
# Open MPI is relocated with OPAL_PREFIX (its components, help texts, orted and the mpicxx wrapper's paths follow
# it) and reads Debian's settings from the bundle's etc/openmpi; Debian's PMIx has absolute paths, so its plugin,
# help and settings folders are named one by one.
rave_bundle_usr=\$(cd "\$(dirname "\${BASH_SOURCE[0]}")/prefix/usr" && pwd)
export RAVE_BUNDLE_PREFIX=\$rave_bundle_usr
export RAVE_BUNDLE_GLIBC=${glibc#GLIBC_} RAVE_BUNDLE_GLIBCXX=${glibcxx#GLIBCXX_}
export OPAL_PREFIX=\$rave_bundle_usr
export OPAL_SYSCONFDIR=\$rave_bundle_usr/../etc/openmpi
export PMIX_PKGLIBDIR=\$rave_bundle_usr/lib/$triplet/pmix2/lib/pmix
export PMIX_PKGDATADIR=\$rave_bundle_usr/lib/$triplet/pmix2/share/pmix
export PMIX_SYSCONFDIR=\$rave_bundle_usr/lib/$triplet/pmix2/share
# hwloc's plugins (Debian's libhwloc-plugins) are not carried; this folder does not exist, so that hwloc loads none,
# not those of another hwloc that the machine may have.
export HWLOC_PLUGINS_PATH=\$rave_bundle_usr/lib/$triplet/hwloc
export PATH=\$rave_bundle_usr/bin:\$PATH
rave_bundle_lib=\$rave_bundle_usr/lib/$triplet
export LD_LIBRARY_PATH=\$rave_bundle_lib:\$rave_bundle_lib/openmpi/lib:\$rave_bundle_lib/pmix2/lib:\$rave_bundle_lib/hdf5/serial\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}
unset rave_bundle_usr rave_bundle_lib
ENV

# ---- report ----
mib() { numfmt --to=iec-i --suffix=B "$1"; }
rm -rf "$dir"
mkdir -p "$dir"
size=$(du -sb "$stage" | cut -f1)
{
  echo "# $dir/deps.tar.gz: $(mib "$size") ($size bytes) unpacked, made $(date -u +%FT%TZ) by scripts/gpu_bundle.sh"
  echo "# needs glibc ${glibc#GLIBC_} and libstdc++ ${glibcxx#GLIBCXX_} (symbol versions) on the target"
  echo "## Debian packages"
  # shellcheck disable=SC2016  # dpkg-deb's format, literally
  for deb in "$work"/debs/*.deb; do dpkg-deb -W --showformat='${Package} ${Version}\n' "$deb"; done
  echo "## shared libraries (bytes)"
  find "$prefix" -type f -name '*.so*' ! -path '*/openmpi3/*' ! -path '*/pmix/*' -printf '%s %f\n' | sort -k2
  components=$(find "$prefix" -type f \( -name 'mca_*.so' -o -name 'pmix_mca_*.so' \) | wc -l)
  echo "## Open MPI and PMIx components: $components kept"
  echo "## left out (needing what is not carried)"
  printf '%s\n' "${dropped[@]}"
  echo "## size by folder (bytes)"
  (cd "$prefix" && for folder in usr/include usr/include/* "$lib" "$lib"/openmpi "$lib"/pmix2 usr/bin usr/share etc; do
     du -sb "$folder"
   done)
} > "$dir/CONTENTS"
cat "$dir/CONTENTS"
tar -C "$stage" -cf - . | gzip -9 > "$dir/deps.tar.gz"
folder_size=$(du -sb "$dir" | cut -f1)
if [ "$folder_size" -gt $((limit_mib * 1024 * 1024)) ]; then
  echo "gpu_bundle: $dir is $(mib "$folder_size"), over the ${limit_mib} MiB that may travel" >&2
  exit 1
fi
echo "gpu_bundle: $dir is $(mib "$folder_size") ($folder_size bytes; limit ${limit_mib} MiB)," \
     "$(mib "$size") unpacked; the target needs glibc >= ${glibc#GLIBC_}"
