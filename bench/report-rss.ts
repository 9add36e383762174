/**
 * Loaded with `--import` into a benchmarked Node process: at exit it reports the process's peak
 * resident set size on stderr, as one line the bench parses.
 */
process.on('exit', () => {
  process.stderr.write(`\nBENCH_PEAK_RSS_BYTES=${process.resourceUsage().maxRSS * 1024}\n`);
});
