// The run report and plots of a synthetic run directory (what rave train writes: metrics.jsonl, sample grids,
// checkpoints, residual.h5, analysis.json), with every part present and with every part absent; the pieces
// underneath (log reading, ticks, base64).
//
// Set RAVE_TEST_REPORT_COPY=/some/report.html to keep a copy of the full report for looking at it in a browser.
#include "analysis/render/report.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdlib>
#include <fstream>

#include "analysis/render/chart.h"
#include "analysis/render/html.h"
#include "analysis/render/plot.h"
#include "analysis/render/run_artifacts.h"
#include "analysis/render/run_log.h"
#include "core/error.h"
#include "io/h5.h"
#include "io/image.h"
#include "tests/support/test_support.h"

namespace rave::analysis {
namespace {

namespace fs = std::filesystem;

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// The text between <section id="ID"> and its </section>.
std::string section(const std::string& html, const std::string& id) {
  const auto start = html.find("<section id=\"" + id + "\">");
  if (start == std::string::npos) return "";
  return html.substr(start, html.find("</section>", start) - start);
}

// A sample grid like the trainer's: input | enhanced | light map, side by side.
torch::Tensor sample_grid(double brightness) {
  const auto ramp = torch::linspace(0, 1, 96).view({1, 1, 96}).expand({3, 96, 96});
  const auto input = ramp * torch::tensor({0.35, 0.3, 0.25}).view({3, 1, 1});
  const auto light = (0.3 + 0.7 * (1 - ramp.narrow(0, 0, 1))).expand({3, 96, 96}) * brightness;
  return torch::cat({input, (input / light).clamp(0, 1), light.clamp(0, 1)}, 2);
}

void write_run(const fs::path& run) {
  fs::create_directories(run / "samples");
  fs::create_directories(run / "checkpoints");
  std::ofstream log(run / "metrics.jsonl");
  for (int step = 1; step <= 60; ++step) {
    const char* stage = step <= 20 ? "reconstruction" : "guided";
    log << "{\"step\":" << step << ",\"round\":" << (step <= 20 ? 0 : 1) << ",\"stage\":\"" << stage
        << "\",\"loss\":" << 2.0 / step << ",\"identity_loss\":" << 1.0 / step;
    if (step > 20) log << ",\"guidance_loss\":" << 0.5 + 0.1 * std::sin(step);
    if (step % 5 == 0) log << ",\"psnr_y\":" << 14 + std::log(double(step));
    log << ",\"images_per_second\":" << 40 + step % 7 << ",\"time\":" << step * 3.5 << "}\n";
  }
  log << "{\"step\": 61, \"loss\": 0.0";  // the half-written last line of a live run
  for (int step : {20, 40, 60}) io::write_image((run / "samples" / ("step_" + std::to_string(step) + ".png")).string(),
                                                sample_grid(0.6 + step / 200.0));
  for (int step : {20, 60}) {
    const fs::path path = run / "checkpoints" / ("step_000000" + std::to_string(step) + ".h5");
    io::h5::File file = io::h5::File::create(path.string());
    file.set_attribute("/", "format", "rave-checkpoint");
    file.set_attribute("/", "method", "rave");
    file.set_attribute("/", "step", int64_t{step});
    file.set_attribute("/", "round", int64_t{step / 30});
    file.set_attribute("/", "stage", step <= 20 ? "reconstruction" : "guided");
    file.set_attribute("/", "world_size", int64_t{2});
    file.set_attribute("/", "config", "[train]\nmax-steps = 60\n");
    file.write("enhancer/conv.weight", torch::zeros({4}));
    file.set_attribute("enhancer", "padding_mode", "zeros");
    file.close();
  }
  std::ofstream(run / "checkpoints" / "broken.h5") << "not HDF5";
  io::h5::File residual = io::h5::File::create((run / "residual.h5").string());
  const auto v_pos = torch::tensor({0.6, 0.8, 0.0}), v_neg = torch::tensor({0.8, 0.6, 0.0});
  const auto r = (v_pos - v_neg) / (v_pos - v_neg).norm();
  residual.write("residual", r);
  residual.write("v_pos", v_pos);
  residual.write("v_neg", v_neg);
  residual.write("tau", torch::tensor((v_pos * r).sum().item<double>(), torch::kFloat64));
  residual.write("n_pos", torch::tensor(int64_t{40}));
  residual.write("n_neg", torch::tensor(int64_t{6}));
  residual.close();
  std::ofstream(run / "analysis.json")
      << R"({"top":[{"token":"sunny","score":0.31},{"token":"bright","score":0.27}],)"
      << R"("bottom":[{"token":"silhouette","score":-0.29},{"token":"<dark>","score":-0.2}]})";
}

TEST(RunLog, KeepsTheLastLineOfARepeatedStepAndCountsBadLines) {
  test::ScratchDir dir;
  std::ofstream(dir / "metrics.jsonl") << "{\"step\":2,\"loss\":1.0,\"stage\":\"guided\",\"round\":1}\n"
                                       << "{\"step\":1,\"loss\":3.0}\n\n[1,2]\n"
                                       << "{\"step\":2,\"loss\":0.5,\"psnr_y\":20}\n{\"step\":3,";
  const RunLog log = read_run_log(dir / "metrics.jsonl");
  ASSERT_EQ(log.records.size(), 2u);
  EXPECT_EQ(log.malformed_lines, 2);
  EXPECT_EQ(log.records[1].value("loss"), 0.5);
  EXPECT_EQ(log.records[1].value("psnr_y"), 20.0);
  EXPECT_FALSE(log.records[0].value("psnr_y"));
  EXPECT_THROW(read_run_log(dir / "missing.jsonl"), IoError);
}

TEST(Chart, NiceTicksAndLabels) {
  EXPECT_EQ(nice_ticks(0, 5200, 5), (std::vector<double>{0, 1000, 2000, 3000, 4000, 5000, 6000}));
  const std::vector<double> fine = nice_ticks(0.12, 0.31, 4), expected = {0.1, 0.15, 0.2, 0.25, 0.3, 0.35};
  ASSERT_EQ(fine.size(), expected.size());
  for (size_t i = 0; i < fine.size(); ++i) EXPECT_NEAR(fine[i], expected[i], 1e-12);
  EXPECT_EQ(tick_label(0.25, 0.05), "0.25");
  EXPECT_EQ(tick_label(3000, 1000), "3000");
  EXPECT_EQ(tick_label(-1e-17, 0.1), "0.0");
  EXPECT_EQ(tick_label(2e-5, 1e-5), "2e-05");
}

TEST(Chart, DecimationKeepsSpikes) {
  Series s{"loss", {}, {}};
  for (int i = 0; i < 10000; ++i) {
    s.x.push_back(i);
    s.y.push_back(i == 5003 ? 100.0 : 1.0);
  }
  const Series d = decimate(s, 400);
  EXPECT_LE(d.x.size(), 400u);
  EXPECT_EQ(*std::max_element(d.y.begin(), d.y.end()), 100.0);
}

TEST(Html, Base64AndEscaping) {
  EXPECT_EQ(base64({'f', 'o', 'o', 'b', 'a', 'r'}), "Zm9vYmFy");
  EXPECT_EQ(base64({'f', 'o', 'o', 'b'}), "Zm9vYg==");
  EXPECT_EQ(html_escape("<a href=\"x\">&'"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
}

TEST(Report, TinyRunHasEverySection) {
  test::ScratchDir dir;
  write_run(dir / "run");
  const std::string html = render_report(dir / "run");
  for (const char* id : {"overview", "losses", "psnr", "throughput", "samples", "checkpoints", "residual"}) {
    EXPECT_FALSE(section(html, id).empty()) << id;
  }
  EXPECT_TRUE(contains(section(html, "overview"), "rave"));
  EXPECT_TRUE(contains(section(html, "overview"), "1 to 60"));
  EXPECT_TRUE(contains(section(html, "overview"), "1 line(s) of metrics.jsonl could not be read"));
  EXPECT_TRUE(contains(section(html, "losses"), "<svg"));
  EXPECT_TRUE(contains(section(html, "losses"), "guidance_loss"));
  EXPECT_TRUE(contains(section(html, "losses"), ">reconstruction</text>"));  // the stage band
  EXPECT_TRUE(contains(section(html, "psnr"), "psnr_y"));
  EXPECT_TRUE(contains(section(html, "throughput"), "images_per_second"));
  const std::string samples = section(html, "samples");
  EXPECT_TRUE(contains(samples, "src=\"data:image/png;base64,iVBORw0KGgo"));  // the PNG signature
  EXPECT_TRUE(contains(samples, "step 60: input | enhanced | light map"));
  const std::string checkpoints = section(html, "checkpoints");
  EXPECT_TRUE(contains(checkpoints, "step_00000060.h5"));
  EXPECT_TRUE(contains(checkpoints, "broken.h5</td><td colspan=\"6\">unreadable"));
  // The padding each was trained with, and the one rave enhance runs them with.
  EXPECT_TRUE(contains(checkpoints, "class=\"num\">2</td><td>zeros</td>"));  // ranks, then the padding
  EXPECT_TRUE(contains(checkpoints, "runs every checkpoint with <b>reflect</b> padding"));
  EXPECT_TRUE(contains(checkpoints, "max-steps = 60"));
  const std::string residual = section(html, "residual");
  EXPECT_TRUE(contains(residual, "0.141421"));  // tau = sin(theta/2) for <v_pos, v_neg> = 0.96
  EXPECT_TRUE(contains(residual, "40 well-lit, 6 backlit"));
  EXPECT_TRUE(contains(residual, "silhouette"));
  EXPECT_TRUE(contains(residual, "&lt;dark&gt;"));
  // Self-contained: nothing is fetched.
  for (const char* remote : {"src=\"http", "href=\"http", "url(", "<script", "<link"}) {
    EXPECT_FALSE(contains(html, remote)) << remote;
  }
  if (const char* copy = std::getenv("RAVE_TEST_REPORT_COPY")) std::ofstream(copy) << html;
}

TEST(Report, EmptyRunSaysWhatIsMissing) {
  test::ScratchDir dir;
  const std::string html = render_report(dir.path());
  EXPECT_TRUE(contains(section(html, "losses"), "No metrics.jsonl"));
  EXPECT_TRUE(contains(section(html, "samples"), "No samples/step_&lt;N&gt;.png"));
  EXPECT_TRUE(contains(section(html, "checkpoints"), "No checkpoints/*.h5"));
  EXPECT_TRUE(contains(section(html, "residual"), "No residual.h5"));
  EXPECT_TRUE(contains(section(html, "residual"), "No analysis.json"));
  EXPECT_THROW(render_report(dir / "missing"), IoError);
}

TEST(Plot, WritesOnePngPerLoggedChart) {
  test::ScratchDir dir;
  write_run(dir / "run");
  const auto written = plot_run(dir / "run", dir / "plots", 800, 400);
  ASSERT_EQ(written.size(), 3u);
  EXPECT_EQ(written[0].filename(), "losses.png");
  const torch::Tensor image = io::read_image_u8(written[0].string());
  EXPECT_EQ(image.size(1), 800);
  EXPECT_EQ(image.size(0), 400);
  EXPECT_THROW(plot_run(dir / "missing", dir / "plots", 800, 400), IoError);
}

}  // namespace
}  // namespace rave::analysis
