//! A deterministic force-directed layout (Fruchterman–Reingold with grid-binned repulsion).
//!
//! Same input, same output, bit for bit: the start positions come from the node order (a
//! sunflower spiral) and a fixed-seed jitter, the iteration count is fixed, every loop runs
//! in index order and nothing depends on hash order or on threads.
//!
//! Cost: repulsion is only computed between nodes in the same or neighbouring grid cells
//! (cells as wide as the repulsion cut-off), so one iteration is about linear in nodes plus
//! edges; 10,000 nodes with a few hundred thousand edges lay out in about a second.

/// A node's position in the unit square `[0, 1]²`.
pub type Point = (f64, f64);

/// How many iterations a graph of `n` nodes gets: small graphs can afford many.
pub fn iterations(n: usize) -> usize {
    match n {
        0..=1_000 => 300,
        1_001..=4_000 => 150,
        _ => 80,
    }
}

/// SplitMix64: a tiny fixed generator, so the jitter never changes with a crate upgrade.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A value in `[-0.5, 0.5)`.
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 - 0.5
    }
}

/// Lays out `n` nodes joined by undirected `edges` (pairs of node positions; pairs out of
/// range are ignored) and returns one point per node in `[0, 1]²`.
pub fn layout(n: usize, edges: &[(u32, u32)], seed: u64) -> Vec<Point> {
    layout_with(n, edges, seed, iterations(n))
}

/// [`layout`] with an explicit iteration count.
pub fn layout_with(n: usize, edges: &[(u32, u32)], seed: u64, iters: usize) -> Vec<Point> {
    if n == 0 {
        return Vec::new();
    }
    if n == 1 {
        return vec![(0.5, 0.5)];
    }
    let edges: Vec<(usize, usize)> = edges
        .iter()
        .map(|&(a, b)| (a as usize, b as usize))
        .filter(|&(a, b)| a < n && b < n && a != b)
        .collect();
    // Ideal edge length 1; the spiral below fills a disc of area about n.
    let k = 1.0_f64;
    let golden = std::f64::consts::PI * (3.0 - 5.0_f64.sqrt());
    let mut rng = SplitMix(seed);
    let mut pos: Vec<Point> = (0..n)
        .map(|i| {
            let r = (i as f64 + 0.5).sqrt() * 0.6;
            let a = i as f64 * golden;
            (
                r * a.cos() + rng.unit() * 0.1,
                r * a.sin() + rng.unit() * 0.1,
            )
        })
        .collect();
    let mut disp: Vec<Point> = vec![(0.0, 0.0); n];
    let radius = (n as f64).sqrt() * 0.6;
    let t0 = radius / 4.0;
    let cutoff = 2.5 * k;
    let mut grid = Grid::default();
    for it in 0..iters {
        let t = t0 * (1.0 - it as f64 / iters as f64) + 0.01;
        disp.iter_mut().for_each(|d| *d = (0.0, 0.0));
        grid.rebuild(&pos, cutoff);
        // Repulsion k²/d between nodes closer than the cut-off.
        for i in 0..n {
            let (xi, yi) = pos[i];
            let (cx, cy) = grid.cell_of(pos[i]);
            let mut fx = 0.0;
            let mut fy = 0.0;
            for gy in cy.saturating_sub(1)..=(cy + 1).min(grid.h - 1) {
                for gx in cx.saturating_sub(1)..=(cx + 1).min(grid.w - 1) {
                    let members = grid.members(gx, gy);
                    if members.len() > DIRECT_MAX {
                        // A crowded cell acts as one mass at its centroid (without this
                        // node), so dense clusters around hubs cost no more than sparse
                        // ones and still push apart.
                        let c = gy * grid.w + gx;
                        let (mut sx, mut sy) = grid.sums[c];
                        let mut m = members.len() as f64;
                        if (gx, gy) == (cx, cy) {
                            sx -= xi;
                            sy -= yi;
                            m -= 1.0;
                        }
                        let dx = xi - sx / m;
                        let dy = yi - sy / m;
                        let d2 = (dx * dx + dy * dy).max(0.01);
                        let f = k * k * m / d2;
                        fx += dx * f;
                        fy += dy * f;
                        continue;
                    }
                    for &j in members {
                        let j = j as usize;
                        if j == i {
                            continue;
                        }
                        let dx = xi - pos[j].0;
                        let dy = yi - pos[j].1;
                        let mut d2 = dx * dx + dy * dy;
                        if d2 > cutoff * cutoff {
                            continue;
                        }
                        let (dx, dy) = if d2 < 1e-9 {
                            // Coincident points: push apart along a direction fixed by
                            // their indices.
                            d2 = 1e-6;
                            let s = if i < j { 1e-3 } else { -1e-3 };
                            (s, s * 0.5)
                        } else {
                            (dx, dy)
                        };
                        let f = k * k / d2;
                        fx += dx * f;
                        fy += dy * f;
                    }
                }
            }
            disp[i].0 += fx;
            disp[i].1 += fy;
        }
        // Attraction d²/k along edges.
        for &(a, b) in &edges {
            let dx = pos[a].0 - pos[b].0;
            let dy = pos[a].1 - pos[b].1;
            let d = (dx * dx + dy * dy).sqrt();
            if d < 1e-9 {
                continue;
            }
            let f = d / k;
            disp[a].0 -= dx * f;
            disp[a].1 -= dy * f;
            disp[b].0 += dx * f;
            disp[b].1 += dy * f;
        }
        // A weak pull to the centre keeps separate components on the page.
        for i in 0..n {
            let (x, y) = pos[i];
            let d = (x * x + y * y).sqrt();
            if d > 1e-9 {
                let f = 0.02 * d / radius.max(1.0);
                disp[i].0 -= x / d * f * radius;
                disp[i].1 -= y / d * f * radius;
            }
            let (dx, dy) = disp[i];
            let len = (dx * dx + dy * dy).sqrt();
            if len > 1e-12 {
                let step = len.min(t);
                pos[i].0 += dx / len * step;
                pos[i].1 += dy / len * step;
            }
        }
    }
    normalize(&mut pos);
    pos
}

/// Scales and centres points into `[0, 1]²`, keeping the aspect ratio.
fn normalize(pos: &mut [Point]) {
    let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    for &(x, y) in pos.iter() {
        x0 = x0.min(x);
        y0 = y0.min(y);
        x1 = x1.max(x);
        y1 = y1.max(y);
    }
    let span = (x1 - x0).max(y1 - y0).max(1e-9);
    let ox = (span - (x1 - x0)) / 2.0;
    let oy = (span - (y1 - y0)) / 2.0;
    for p in pos.iter_mut() {
        *p = ((p.0 - x0 + ox) / span, (p.1 - y0 + oy) / span);
    }
}

/// Nodes binned into square cells, stored as one index array (counting sort, so each
/// cell lists its nodes in index order).
#[derive(Default)]
struct Grid {
    x0: f64,
    y0: f64,
    cell: f64,
    w: usize,
    h: usize,
    starts: Vec<u32>,
    items: Vec<u32>,
    /// Per cell: sum of member x and y.
    sums: Vec<Point>,
}

/// Most cells per side; wider spreads get wider cells (and so a longer reach).
const GRID_MAX: usize = 1024;
/// Cells with more nodes than this repel as one mass.
const DIRECT_MAX: usize = 24;

impl Grid {
    fn rebuild(&mut self, pos: &[Point], cutoff: f64) {
        let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
        for &(x, y) in pos {
            x0 = x0.min(x);
            y0 = y0.min(y);
            x1 = x1.max(x);
            y1 = y1.max(y);
        }
        let span = (x1 - x0).max(y1 - y0);
        self.cell = cutoff.max(span / GRID_MAX as f64);
        self.x0 = x0;
        self.y0 = y0;
        self.w = (((x1 - x0) / self.cell) as usize + 1).min(GRID_MAX);
        self.h = (((y1 - y0) / self.cell) as usize + 1).min(GRID_MAX);
        let cells = self.w * self.h;
        self.starts.clear();
        self.starts.resize(cells + 1, 0);
        let idx: Vec<usize> = pos
            .iter()
            .map(|&p| {
                let (cx, cy) = self.cell_of(p);
                cy * self.w + cx
            })
            .collect();
        for &c in &idx {
            self.starts[c + 1] += 1;
        }
        for c in 0..cells {
            self.starts[c + 1] += self.starts[c];
        }
        let mut fill: Vec<u32> = self.starts[..cells].to_vec();
        self.items.clear();
        self.items.resize(pos.len(), 0);
        self.sums.clear();
        self.sums.resize(cells, (0.0, 0.0));
        for (i, &c) in idx.iter().enumerate() {
            self.items[fill[c] as usize] = i as u32;
            fill[c] += 1;
            self.sums[c].0 += pos[i].0;
            self.sums[c].1 += pos[i].1;
        }
    }

    fn cell_of(&self, (x, y): Point) -> (usize, usize) {
        let cx = ((x - self.x0) / self.cell) as usize;
        let cy = ((y - self.y0) / self.cell) as usize;
        (cx.min(self.w - 1), cy.min(self.h - 1))
    }

    fn members(&self, cx: usize, cy: usize) -> &[u32] {
        let c = cy * self.w + cx;
        &self.items[self.starts[c] as usize..self.starts[c + 1] as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(n: u32) -> Vec<(u32, u32)> {
        (0..n).map(|i| (i, (i + 1) % n)).collect()
    }

    #[test]
    fn same_input_same_bits() {
        let e = ring(50);
        let a = layout(50, &e, 7);
        let b = layout(50, &e, 7);
        assert_eq!(a, b);
        assert_ne!(a, layout(50, &e, 8));
    }

    #[test]
    fn points_fill_the_unit_square_and_are_distinct() {
        let mut e = ring(200);
        e.push((0, 999)); // out of range: ignored
        let p = layout(200, &e, 1);
        assert_eq!(p.len(), 200);
        assert!(
            p.iter()
                .all(|&(x, y)| (0.0..=1.0).contains(&x) && (0.0..=1.0).contains(&y))
        );
        let min_gap = p
            .iter()
            .enumerate()
            .flat_map(|(i, a)| {
                p[i + 1..]
                    .iter()
                    .map(move |b| ((a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)).sqrt())
            })
            .fold(f64::MAX, f64::min);
        assert!(min_gap > 1e-4, "nodes on top of each other: {min_gap}");
    }

    #[test]
    fn neighbours_end_closer_than_strangers() {
        // Two rings of 40 joined by one edge: ring mates should sit closer together than
        // nodes of different rings on average.
        let mut e = ring(40);
        e.extend(ring(40).iter().map(|&(a, b)| (a + 40, b + 40)));
        e.push((0, 40));
        let p = layout(80, &e, 3);
        let d = |a: usize, b: usize| ((p[a].0 - p[b].0).powi(2) + (p[a].1 - p[b].1).powi(2)).sqrt();
        let within: f64 = (0..40).map(|i| d(i, (i + 1) % 40)).sum::<f64>() / 40.0;
        let across: f64 = (0..40).map(|i| d(i, 40 + (i + 20) % 40)).sum::<f64>() / 40.0;
        assert!(within < across, "within {within} across {across}");
    }

    #[test]
    fn degenerate_sizes() {
        assert!(layout(0, &[], 1).is_empty());
        assert_eq!(layout(1, &[(0, 0)], 1), vec![(0.5, 0.5)]);
        assert_eq!(layout(2, &[], 1).len(), 2);
    }
}
