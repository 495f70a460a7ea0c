// Reference scores for internal/strength's oracle test: reads a JSON-lines
// corpus ({"password": ..., "user_inputs": [...]}) from the file named by
// argv[2] and prints one JSON array with zxcvbn's verdict for each line, in
// order. zxcvbn is the npm package pinned by package-lock.json (its main
// entry point, lib/main.js), not the copy embedded in the Go package.
'use strict';
const fs = require('fs');
const zxcvbn = require('zxcvbn');

const lines = fs.readFileSync(process.argv[2], 'utf8').split('\n').filter((l) => l !== '');
const out = lines.map((line) => {
  const e = JSON.parse(line);
  const r = zxcvbn(e.password, e.user_inputs || []);
  return {
    score: r.score,
    warning: r.feedback.warning,
    suggestions: r.feedback.suggestions,
    guesses: r.guesses,
    crack_time_display: r.crack_times_display.offline_slow_hashing_1e4_per_second,
  };
});
process.stdout.write(JSON.stringify(out) + '\n');
