import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nextRateToCheck, rateNote, roundRate } from '../../../bench/lib/cold-rate.js';

test('a rate Kea sustains cold (under 1 % failed) is kept', () => {
  assert.equal(nextRateToCheck(6400, 6399, 0.01), undefined);
  assert.equal(nextRateToCheck(6400, 6380, 0.99), undefined);
});

test('a rate Kea loses 1 % or more of is stepped down to just under what it completed', () => {
  assert.equal(nextRateToCheck(8900, 6551, 26.38), 6400); // 98 % of 6551 = 6419.98, rounded down
  // Completed almost all: still at least 5 % below the offer, so the next check differs.
  assert.equal(nextRateToCheck(6000, 5990, 1.2), 5700);
  assert.equal(roundRate(50), 100);
});

test('the note names the flood rate and every check', () => {
  assert.equal(
    rateNote(8857.2, [
      { offered: 8900, completed: 6551, failedPct: 26.381 },
      { offered: 6400, completed: 6399, failedPct: 0.012 },
    ]),
    "Kea's flood rate 8857/s; cold Kea at 8900/s lost 26.38 %, at 6400/s 0.01 %",
  );
  assert.equal(rateNote(5000, []), "Kea's flood rate 5000/s");
});
