// GradientReducer under mpirun -np 1, 2, 3. The key property (ARCHITECTURE §7): W ranks with batch b end with
// the same parameters as one process with batch W*b. Every rank trains the single-process reference itself.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <set>

#include "core/error.h"
#include "dist/context.h"
#include "dist/gradient_reducer.h"
#include "dist/mpi_communicator.h"

namespace rave::dist {
namespace {

namespace nn = torch::nn;

struct NetImpl : nn::Module {
  NetImpl() {
    conv1 = register_module("conv1", nn::Conv2d(nn::Conv2dOptions(3, 8, 3).padding(1)));
    conv2 = register_module("conv2", nn::Conv2d(nn::Conv2dOptions(8, 8, 3).padding(1).stride(2)));
    fc = register_module("fc", nn::Linear(8 * 4 * 4, 4));
    unused = register_module("unused", nn::Linear(4, 4));  // never in the graph: its gradient stays None
  }
  torch::Tensor forward(const torch::Tensor& x) {
    auto h = torch::relu(conv1(x));
    h = torch::relu(conv2(h));
    return fc(h.flatten(1));
  }
  nn::Conv2d conv1{nullptr}, conv2{nullptr};
  nn::Linear fc{nullptr}, unused{nullptr};
};
TORCH_MODULE(Net);

Net make_net(uint64_t seed) {
  torch::manual_seed(seed);
  return Net();
}

// Five Adam steps. Each step draws a global batch of world*b samples (the same on every rank) and this rank
// trains on its slice; with world = 1 it is the single-process reference.
void train(Net& net, int rank, int world, int64_t b, GradientReducer* reducer) {
  torch::optim::Adam adam(net->parameters(), torch::optim::AdamOptions(1e-3));
  for (int step = 0; step < 5; ++step) {
    torch::manual_seed(1000 + step);
    const auto x = torch::randn({world * b, 3, 8, 8});
    const auto y = torch::randn({world * b, 4});
    adam.zero_grad();
    // Mean over this rank's b samples; the reducer's average over ranks makes it the global-batch mean.
    const auto loss = torch::mse_loss(net->forward(x.narrow(0, rank * b, b)), y.narrow(0, rank * b, b));
    loss.backward();
    if (reducer) reducer->reduce();
    adam.step();
  }
}

class GradientReducerTest : public testing::Test {
 protected:
  Context context{nullptr, nullptr, {"cpu", 1}};
  MpiCommunicator comm{context, 60};
  const int rank = context.rank();
  const int world = context.world_size();
};

void expect_same_training(const Context& context, Communicator& comm, GradientReducerOptions options) {
  const int64_t b = 2;
  Net reference = make_net(17);
  train(reference, 0, 1, comm.world_size() * b, nullptr);

  Net replica = make_net(17 + context.rank());  // different initialisations: the broadcast must fix them
  GradientReducer reducer(comm, replica->named_parameters(), options);
  reducer.broadcast_parameters();
  train(replica, context.rank(), context.world_size(), b, &reducer);

  for (const auto& item : reference->named_parameters()) {
    const auto& expected = item.value();
    const auto& actual = replica->named_parameters()[item.key()];
    const double scale = expected.abs().max().item<double>();
    const double error = (actual - expected).abs().max().item<double>();
    EXPECT_LE(error, 1e-6 * scale) << item.key() << ": max error " << error << " at scale " << scale;
    // Adam is nearly blind to the scale of the gradients; the last step's gradients are not.
    ASSERT_EQ(actual.grad().defined(), expected.grad().defined()) << item.key();
    if (!expected.grad().defined()) continue;
    const double grad_scale = expected.grad().abs().max().item<double>();
    const double grad_error = (actual.grad() - expected.grad()).abs().max().item<double>();
    EXPECT_LE(grad_error, 1e-5 * grad_scale) << item.key() << ": gradient error " << grad_error << " at " << grad_scale;
  }
  EXPECT_FALSE(replica->unused->weight.grad().defined());
  reducer.check_parameters_in_sync();
}

TEST_F(GradientReducerTest, RanksTrainLikeOneProcessWithTheWholeBatch) {
  expect_same_training(context, comm, {});
}

TEST_F(GradientReducerTest, ManySmallBucketsGiveTheSameResult) {
  GradientReducerOptions tiny;
  tiny.first_bucket_bytes = 64;
  tiny.bucket_bytes = 1024;
  expect_same_training(context, comm, tiny);
}

TEST_F(GradientReducerTest, BucketsFollowReverseRegistrationOrder) {
  Net net = make_net(1);
  GradientReducerOptions options;
  options.first_bucket_bytes = 64;  // unused.bias (16 B) fits, unused.weight (64 B) no longer does
  options.bucket_bytes = 3300;      // fc.weight 2048 B, conv2.weight 2304 B, conv1.weight 864 B
  const auto layout = GradientReducer(comm, net->named_parameters(), options).bucket_layout();
  ASSERT_EQ(layout.size(), 3u);
  EXPECT_EQ(layout[0], (std::vector<std::string>{"unused.bias"}));
  EXPECT_EQ(layout[1], (std::vector<std::string>{"unused.weight", "fc.bias", "fc.weight", "conv2.bias"}));
  EXPECT_EQ(layout[2], (std::vector<std::string>{"conv2.weight", "conv1.bias", "conv1.weight"}));
  EXPECT_EQ(GradientReducer(comm, net->named_parameters()).bucket_layout().size(), 1u);  // defaults: 1 bucket
}

TEST_F(GradientReducerTest, MissingGradientsCountAsZeroAndStayMissingWhenMissingEverywhere) {
  torch::OrderedDict<std::string, torch::Tensor> params;
  params.insert("some", torch::zeros({3}, torch::requires_grad()));
  params.insert("none", torch::zeros({2}, torch::requires_grad()));
  params.insert("frozen", torch::zeros({2}));
  if (rank == 0) params["some"].mutable_grad() = torch::ones({3});
  GradientReducer reducer(comm, params);
  EXPECT_EQ(reducer.bucket_layout(), (std::vector<std::vector<std::string>>{{"none", "some"}}));
  reducer.reduce();
  ASSERT_TRUE(params["some"].grad().defined());
  EXPECT_TRUE(params["some"].grad().allclose(torch::full({3}, 1.0 / world)));
  EXPECT_FALSE(params["none"].grad().defined());
  EXPECT_FALSE(params["frozen"].grad().defined());
}

TEST_F(GradientReducerTest, SyncCheckNamesDivergedParameters) {
  Net net = make_net(3 + rank);
  GradientReducer reducer(comm, net->named_parameters());
  if (world > 1) {
    EXPECT_THROW(reducer.check_parameters_in_sync(), DistError);  // different initialisations
  }
  reducer.broadcast_parameters();
  reducer.check_parameters_in_sync();
  if (world == 1) return;
  if (rank == world - 1) {
    torch::NoGradGuard no_grad;
    net->conv2->bias[0].add_(1e-7f);
  }
  try {
    reducer.check_parameters_in_sync();
    FAIL() << "a diverged replica went unnoticed";
  } catch (const DistError& e) {
    // Every rank, not only the diverged one, reports the same.
    EXPECT_EQ(std::string(e.what()), "replicas diverged: parameters that differ from rank 0's: conv2.bias (1 rank(s))");
  }
}

}  // namespace
}  // namespace rave::dist
