/**
 * Two hand-written SVG charts (no dependencies): a line chart of stored
 * bytes after each version, one line per tool, and a grouped bar chart of
 * time per operation per tool. Plain SVG 1.1 so GitHub renders it inline.
 */

export const COLORS: Record<string, string> = {
  trove: '#d62728',
  tarball: '#7f7f7f',
  restic: '#1f77b4',
  borg: '#2ca02c',
  git: '#ff7f0e',
  'git after gc': '#8c564b',
  'tar -xzf (local)': '#bcbd22',
};

const esc = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A round axis maximum ≥ v: 1, 2 or 5 × 10^n. */
function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 1.2, 1.6, 2, 2.4, 3, 4, 5, 6, 8, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function frame(w: number, h: number, title: string, body: string[]): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" font-family="sans-serif" font-size="12" role="img">`,
    `<title>${esc(title)}</title>`,
    `<rect width="${w}" height="${h}" fill="#fff"/>`,
    `<text x="${w / 2}" y="20" text-anchor="middle" font-size="14" font-weight="bold">${esc(title)}</text>`,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}

function legend(x: number, y: number, names: string[]): string[] {
  return names.flatMap((n, i) => [
    `<rect x="${x}" y="${y + i * 18}" width="12" height="12" fill="${COLORS[n] ?? '#000'}"/>`,
    `<text x="${x + 18}" y="${y + i * 18 + 10}">${esc(n)}</text>`,
  ]);
}

/** Lines of `series[tool][version]` with `fmt` for the y axis labels. */
export function lineChart(
  title: string,
  xLabels: string[],
  series: Record<string, (number | null)[]>,
  fmt: (v: number) => string,
): string {
  const W = 760;
  const H = 360;
  const L = 80;
  const R = 130;
  const T = 40;
  const B = 70;
  const all = Object.values(series)
    .flat()
    .filter((v): v is number => v !== null);
  const top = niceMax(Math.max(0, ...all));
  const x = (i: number) => L + (xLabels.length <= 1 ? 0 : (i * (W - L - R)) / (xLabels.length - 1));
  const y = (v: number) => T + (H - T - B) * (1 - v / top);
  const body: string[] = [];
  for (let k = 0; k <= 4; k++) {
    const v = (top * k) / 4;
    body.push(`<line x1="${L}" x2="${W - R}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/>`);
    body.push(`<text x="${L - 6}" y="${y(v) + 4}" text-anchor="end">${esc(fmt(v))}</text>`);
  }
  xLabels.forEach((l, i) => {
    body.push(
      `<text x="${x(i)}" y="${H - B + 16}" text-anchor="end" transform="rotate(-30 ${x(i)} ${H - B + 16})">${esc(l)}</text>`,
    );
  });
  for (const [name, vals] of Object.entries(series)) {
    const pts = vals.flatMap((v, i) =>
      v === null ? [] : [`${x(i).toFixed(1)},${y(v).toFixed(1)}`],
    );
    const c = COLORS[name] ?? '#000';
    body.push(`<polyline points="${pts.join(' ')}" fill="none" stroke="${c}" stroke-width="2"/>`);
    for (const p of pts) {
      const [px, py] = p.split(',');
      body.push(`<circle cx="${px}" cy="${py}" r="3" fill="${c}"/>`);
    }
  }
  body.push(...legend(W - R + 16, T, Object.keys(series)));
  return frame(W, H, title, body);
}

/** Grouped horizontal bars: one group per operation, one bar per tool. */
export function barChart(
  title: string,
  groups: { label: string; values: Record<string, number | null> }[],
  fmt: (v: number) => string,
): string {
  const tools = [...new Set(groups.flatMap((g) => Object.keys(g.values)))];
  const W = 760;
  const L = 170;
  const R = 210;
  const T = 40;
  const bar = 14;
  const gap = 14;
  const H = T + groups.length * (tools.length * bar + gap) + 30;
  const all = groups.flatMap((g) => Object.values(g.values)).filter((v): v is number => v !== null);
  const top = niceMax(Math.max(0, ...all));
  const x = (v: number) => L + ((W - L - R) * v) / top;
  const body: string[] = [];
  for (let k = 0; k <= 4; k++) {
    const v = (top * k) / 4;
    body.push(`<line x1="${x(v)}" x2="${x(v)}" y1="${T}" y2="${H - 30}" stroke="#ddd"/>`);
    body.push(`<text x="${x(v)}" y="${H - 14}" text-anchor="middle">${esc(fmt(v))}</text>`);
  }
  groups.forEach((g, gi) => {
    const y0 = T + gi * (tools.length * bar + gap);
    body.push(
      `<text x="${L - 8}" y="${y0 + (tools.length * bar) / 2 + 4}" text-anchor="end">${esc(g.label)}</text>`,
    );
    tools.forEach((t, ti) => {
      const v = g.values[t] ?? null;
      const y = y0 + ti * bar;
      if (v === null) return;
      body.push(
        `<rect x="${L}" y="${y}" width="${Math.max(1, x(v) - L).toFixed(1)}" height="${bar - 2}" fill="${COLORS[t] ?? '#000'}"/>`,
      );
      body.push(
        `<text x="${(x(v) + 4).toFixed(1)}" y="${y + bar - 4}" font-size="10">${esc(fmt(v))}</text>`,
      );
    });
  });
  // Right of the longest bar's value label.
  body.push(...legend(W - R + 70, T, tools));
  return frame(W, H, title, body);
}
