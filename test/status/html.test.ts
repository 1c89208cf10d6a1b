import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { escapeHtml, html, SafeHtml } from "../../transports/http/status/html.ts";
import { fleetContent, isStale } from "../../transports/http/status/fleet-page.ts";
import { jobContent } from "../../transports/http/status/job-page.ts";
import { renderPage } from "../../transports/http/status/layout.ts";
import { span } from "../../transports/http/status/time.ts";

const HOSTILE = `"><script>alert(1)</script><img src=x onerror='x()'>\`&`;

describe("status page HTML", () => {
  test("escapeHtml escapes every markup character", () => {
    assert.equal(
      escapeHtml(`<a href="x" title='y'>&\`</a>`),
      "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&#96;&lt;/a&gt;",
    );
  });

  test("the html tag escapes values but keeps nested markup and lists", () => {
    const inner = html`<b>${"<i>"}</b>`;
    const out = html`<p title="${HOSTILE}">${[inner, "<x>", 3, undefined, null]}</p>`;
    assert.ok(out instanceof SafeHtml);
    assert.equal(
      out.value,
      `<p title="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=&#39;x()&#39;&gt;&#96;&amp;"><b>&lt;i&gt;</b>&lt;x&gt;3</p>`,
    );
  });

  test("hostile hostnames, facts and fingerprints cannot inject markup in the fleet view", () => {
    const now = Date.now();
    const body = fleetContent(
      [
        {
          hostname: HOSTILE,
          facts: { [HOSTILE]: HOSTILE, role: "<b>web</b>" },
          fingerprint: HOSTILE,
          publicKey: "ssh-ed25519 AAAA",
          version: HOSTILE,
          lastSeen: new Date(now).toISOString(),
          state: "accepted" as const,
        },
      ],
      [
        {
          hostname: `pending${HOSTILE}`,
          facts: { role: HOSTILE },
          fingerprint: HOSTILE,
          publicKey: "ssh-ed25519 AAAA",
          version: HOSTILE,
          lastSeen: new Date(now).toISOString(),
          state: "pending" as const,
          keyChanged: true,
        },
      ],
      now,
      25,
      { role: HOSTILE },
    ).value;
    assert.ok(body.includes("Waiting for acceptance"), "pending hosts are listed apart");
    assert.ok(!body.includes("<script"), "no script element");
    assert.ok(!body.includes("<img"), "no img element");
    assert.ok(!body.includes("<b>web"), "fact values are text");
    assert.ok(body.includes("&lt;script&gt;alert(1)&lt;/script&gt;"));
  });

  test("hostile command text cannot inject markup in the job page shell", () => {
    const body = jobContent({
      id: "j0123456789ab",
      text: `fleet ${HOSTILE}`,
      command: "fleet",
      principal: HOSTILE,
      transport: "http",
      state: "running",
      createdAt: HOSTILE,
    }).value;
    assert.ok(!body.includes("<script") && !body.includes("<img"));
  });

  test("pages load scripts from /ui/static only, never inline", () => {
    const page = renderPage({ title: HOSTILE, who: HOSTILE, scripts: ["job.js"] }, html`x`);
    assert.deepEqual(page.match(/<script[^>]*>/g), ['<script src="/ui/static/job.js" defer>']);
    assert.ok(!page.includes("<script>alert"));
  });

  test("stale flag and spans", () => {
    const now = Date.now();
    const node = (ageMs: number) => ({
      hostname: "h",
      facts: {},
      fingerprint: "f",
      publicKey: "k",
      version: "v",
      lastSeen: new Date(now - ageMs).toISOString(),
      state: "accepted" as const,
    });
    assert.equal(isStale(node(5_000), now, 25), false);
    assert.equal(isStale(node(26_000), now, 25), true);
    assert.equal(isStale({ ...node(0), lastSeen: "garbage" }, now, 25), true);
    assert.deepEqual(
      [span(999), span(61_000), span(7_200_000), span(-5)],
      ["0 s", "1 min", "2 h", "0 s"],
    );
  });
});
