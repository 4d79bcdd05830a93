// Summary statistics for measurements (latencies, throughputs). Pure.
#pragma once

#include <vector>

namespace mrsi {

// The q-quantile (q in [0,1]) of the samples with linear interpolation between closest ranks;
// 0 for no samples.
double percentile(std::vector<double> samples, double q);

}  // namespace mrsi
