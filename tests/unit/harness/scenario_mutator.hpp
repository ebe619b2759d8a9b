#pragma once
// Deterministic mutations of scenario files for the loader's fuzz test: one 64-bit seed picks a
// corpus file and the mutations applied to it, so a failing input is reproduced from its seed alone.
#include <cstdint>
#include <string>
#include <vector>

namespace lastcall::harness::testing {

// splitmix64: small, fast, and the same sequence on every platform (std::uniform_int_distribution
// is not specified bit for bit).
class FuzzRng {
public:
    explicit FuzzRng(std::uint64_t seed) : state_(seed) {}
    std::uint64_t next();
    // Uniform enough in [0, n); n > 0.
    std::size_t below(std::size_t n) { return static_cast<std::size_t>(next() % n); }
    bool one_in(std::size_t n) { return below(n) == 0; }

private:
    std::uint64_t state_;
};

class ScenarioMutator {
public:
    // `corpus`: the texts mutations start from; hand-written nasty seeds are added to it.
    explicit ScenarioMutator(std::vector<std::string> corpus);

    // The input for `seed`: a corpus text (sometimes re-emitted in flow or block style) with one to
    // five mutations.
    std::string input(std::uint64_t seed) const;

    const std::vector<std::string>& corpus() const { return corpus_; }

private:
    std::vector<std::string> corpus_;
    std::vector<std::string> restyled_;  // each corpus text re-emitted in flow style ("" if it did not parse)
};

// Top-level keys l0..l<levels>, each a list of ten aliases of the one before: 10^(levels+1) values
// once expanded, a few hundred bytes as text.
std::string billion_laughs(std::size_t levels);

// Seeds written by hand: each aims at one way a scenario file has broken or could break the loader.
std::vector<std::string> nasty_seeds();

} // namespace lastcall::harness::testing
