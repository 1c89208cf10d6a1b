import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { SendQueue, TokenBucket, type OutgoingLine } from "../../transports/irc/flood.ts";
import { FakeClock } from "./fake-clock.ts";

describe("TokenBucket", () => {
  test("allows a burst, then one token per interval", () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket(4, 1, clock.now);
    for (let i = 0; i < 4; i++) assert.equal(bucket.tryTake(), 0);
    assert.equal(bucket.tryTake(), 1000);
    clock.advance(500);
    assert.equal(bucket.tryTake(), 500);
    clock.advance(500);
    assert.equal(bucket.tryTake(), 0);
    assert.equal(bucket.tryTake(), 1000);
  });

  test("refills up to the burst size only", () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket(2, 4, clock.now);
    bucket.tryTake();
    bucket.tryTake();
    clock.advance(60_000);
    assert.equal(bucket.tryTake(), 0);
    assert.equal(bucket.tryTake(), 0);
    assert.equal(bucket.tryTake(), 250);
  });
});

describe("SendQueue", () => {
  function setup(maxQueue = 100) {
    const clock = new FakeClock();
    const sent: { at: number; text: string }[] = [];
    const dropped: OutgoingLine[] = [];
    const queue = new SendQueue({
      bucket: new TokenBucket(4, 1, clock.now),
      send: (line) => sent.push({ at: clock.now(), text: line.text }),
      maxQueue,
      onDrop: (line) => dropped.push(line),
      schedule: clock.schedule,
    });
    return { clock, sent, dropped, queue };
  }
  const push = (q: SendQueue, n: number) => {
    for (let i = 0; i < n; i++) q.push({ target: "#ops", text: `line ${i}` });
  };

  test("sends a burst of 4, then 1 per second, in order", () => {
    const { clock, sent, queue } = setup();
    queue.resume();
    push(queue, 10);
    assert.equal(sent.length, 4);
    clock.advance(6_000);
    assert.deepEqual(
      sent.map((s) => s.at),
      [0, 0, 0, 0, 1000, 2000, 3000, 4000, 5000, 6000],
    );
    assert.deepEqual(
      sent.map((s) => s.text),
      Array.from({ length: 10 }, (_, i) => `line ${i}`),
    );
    // No window of one second ever carries more than burst + rate lines.
    for (const s of sent)
      assert.ok(sent.filter((o) => o.at >= s.at && o.at < s.at + 1000).length <= 5);
  });

  test("holds lines while paused and sends them after resume", () => {
    const { clock, sent, queue } = setup();
    push(queue, 3);
    clock.advance(10_000);
    assert.equal(sent.length, 0);
    assert.equal(queue.length, 3);
    queue.resume();
    assert.equal(sent.length, 3);
    push(queue, 5);
    queue.pause();
    clock.advance(10_000);
    const before = sent.length;
    assert.equal(queue.length, 8 - before);
    queue.resume();
    clock.advance(10_000);
    assert.equal(sent.length, 8);
  });

  test("drops the oldest line, and reports it, when the queue is full", () => {
    const { dropped, queue } = setup(10);
    push(queue, 12);
    assert.equal(queue.length, 10);
    assert.deepEqual(
      dropped.map((d) => d.text),
      ["line 0", "line 1"],
    );
  });
});
