// MpiCommunicator under mpirun -np 1, 2, 3: sums and broadcasts per dtype, errors, the --backend factory.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/error.h"
#include "dist/communicator.h"
#include "dist/context.h"
#include "dist/mpi_communicator.h"
#include "dist/per_rank.h"
#include "dist/routing_communicator.h"

namespace rave::dist {
namespace {

class MpiCommunicatorTest : public testing::Test {
 protected:
  Context context{nullptr, nullptr, {"cpu", 1}};  // MPI is already up (mpi_main): this one only reads it
  MpiCommunicator comm{context, /*collective_timeout_seconds=*/60};
  const int rank = context.rank();
  const int world = context.world_size();
};

TEST_F(MpiCommunicatorTest, AllReduceSumsEverySupportedDtype) {
  for (auto dtype : {torch::kFloat32, torch::kFloat64, torch::kInt64}) {
    auto t = torch::full({5, 3}, rank + 1, torch::TensorOptions().dtype(dtype));
    comm.all_reduce_sum(t);
    EXPECT_TRUE(t.eq(world * (world + 1) / 2).all().item<bool>()) << dtype;
  }
  // int64 stays exact beyond float64's 53-bit mantissa.
  auto big = torch::full({2}, (int64_t{1} << 55) + rank, torch::kInt64);
  comm.all_reduce_sum(big);
  EXPECT_EQ(big[1].item<int64_t>(), world * (int64_t{1} << 55) + world * (world - 1) / 2);
}

// What rave train, --dry-run and rave enhance report about the job: each rank's own figures, on every rank.
TEST_F(MpiCommunicatorTest, GatherRowsPutsEachRanksRowInItsPlace) {
  const torch::Tensor rows = gather_rows(comm, torch::tensor({double(rank), 10.0 * rank + 0.5}, torch::kFloat32));
  ASSERT_EQ(rows.sizes(), torch::IntArrayRef({world, 2}));
  EXPECT_EQ(rows.scalar_type(), torch::kFloat64);
  for (int r = 0; r < world; ++r) {
    EXPECT_EQ(rows[r][0].item<double>(), r);
    EXPECT_EQ(rows[r][1].item<double>(), 10.0 * r + 0.5);
  }
}

TEST_F(MpiCommunicatorTest, BroadcastsFromEveryRoot) {
  for (auto dtype : {torch::kFloat32, torch::kFloat64, torch::kInt64}) {
    for (int root = 0; root < world; ++root) {
      auto t = torch::arange(6, torch::TensorOptions().dtype(dtype)) * (rank + 1);
      comm.broadcast(t, root);
      EXPECT_TRUE(t.equal(torch::arange(6, torch::TensorOptions().dtype(dtype)) * (root + 1))) << dtype;
    }
  }
}

TEST_F(MpiCommunicatorTest, EmptyTensorsAndBarrier) {
  auto empty = torch::empty({0});
  comm.all_reduce_sum(empty);
  comm.barrier();
  SUCCEED();
}

TEST_F(MpiCommunicatorTest, RejectsWhatItCannotReduceInPlace) {
  try {
    comm.all_reduce_sum(torch::ones({4}, torch::kInt32));
    FAIL() << "int32 accepted";
  } catch (const DistError& e) {
    EXPECT_NE(std::string(e.what()).find("rank " + std::to_string(rank) + ": MPI_Allreduce: unsupported dtype Int"),
              std::string::npos)
        << e.what();
  }
  EXPECT_THROW(comm.all_reduce_sum(torch::ones({4}, torch::kFloat16)), DistError);
  EXPECT_THROW(comm.all_reduce_sum(torch::ones({3, 4}).t()), DistError);  // not contiguous
  EXPECT_THROW(comm.all_reduce_sum(torch::Tensor()), DistError);
  EXPECT_THROW(comm.broadcast(torch::ones({2}), world), DistError);
}

TEST_F(MpiCommunicatorTest, FactoryChoosesAndExplains) {
  EXPECT_STREQ(make_communicator(context, "mpi")->backend(), "mpi");
  EXPECT_STREQ(make_communicator(context, "auto")->backend(), "mpi");  // a CPU rank
  try {
    make_communicator(context, "nccl");
    FAIL() << "nccl on a CPU rank";
  } catch (const UsageError& e) {
    const std::string why = nccl_compiled() ? "but this rank computes on cpu" : "built without NCCL";
    EXPECT_NE(std::string(e.what()).find(why), std::string::npos) << e.what();
  }
  EXPECT_THROW(make_communicator(context, "gloo"), UsageError);
}

// Stands in for NCCL where no GPU is present: an MPI communicator that, like NcclCommunicator, refuses host tensors.
class DeviceOnlyCommunicator : public MpiCommunicator {
 public:
  using MpiCommunicator::MpiCommunicator;
  const char* backend() const override { return "device"; }
  void all_reduce_sum(const torch::Tensor& tensor) override {
    refuse_host(tensor);
    MpiCommunicator::all_reduce_sum(tensor);
  }
  void broadcast(const torch::Tensor& tensor, int root) override {
    refuse_host(tensor);
    MpiCommunicator::broadcast(tensor, root);
  }

 private:
  static void refuse_host(const torch::Tensor& tensor) {
    if (tensor.is_cpu()) throw DistError("a host tensor reached the device backend");
  }
};

// What `rave train --backend nccl` does with the trainer's loss numbers, stop flags and residual sums.
TEST_F(MpiCommunicatorTest, RoutedHostTensorsAreReducedAndBroadcastByTheHostBackend) {
  RoutingCommunicator routed(std::make_unique<DeviceOnlyCommunicator>(context, 60),
                             std::make_unique<MpiCommunicator>(context, 60));
  EXPECT_STREQ(routed.backend(), "device");
  EXPECT_EQ(routed.world_size(), world);
  for (auto dtype : {torch::kFloat32, torch::kFloat64, torch::kInt64}) {
    auto sum = torch::full({4}, rank + 1, torch::TensorOptions().dtype(dtype));
    routed.all_reduce_sum(sum);
    EXPECT_TRUE(sum.eq(world * (world + 1) / 2).all().item<bool>()) << dtype;
    auto value = torch::full({2}, rank, torch::TensorOptions().dtype(dtype));
    routed.broadcast(value, world - 1);
    EXPECT_TRUE(value.eq(world - 1).all().item<bool>()) << dtype;
    EXPECT_TRUE(sum.is_cpu() && value.is_cpu());
  }
  routed.barrier();
}

}  // namespace
}  // namespace rave::dist
