//! A deterministic force-directed layout (Fruchterman–Reingold, Barnes–Hut repulsion).
//!
//! Same input, same output, bit for bit: the start positions come from the node order (a
//! sunflower spiral) and a fixed-seed jitter, the iteration count is fixed, every loop runs
//! in index order (the quadtree is rebuilt in node order) and nothing depends on hash order
//! or on threads.
//!
//! Cost: repulsion uses a Barnes–Hut quadtree (far groups of nodes act as one mass), so one
//! iteration costs about n log n plus the edges; 10,000 nodes with a few hundred thousand
//! edges lay out in a second or two.

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
    let mut tree = QuadTree::default();
    for it in 0..iters {
        let t = t0 * (1.0 - it as f64 / iters as f64) + 0.01;
        tree.rebuild(&pos);
        // Repulsion k²/d from every other node, far groups as one mass (Barnes–Hut).
        for (i, d) in disp.iter_mut().enumerate() {
            *d = tree.repulsion(i, pos[i], k * k);
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

/// Opening angle of Barnes–Hut: a cell farther than its width / THETA acts as one mass.
const THETA: f64 = 1.0;
/// Deeper cells are not split: nodes that close are summed into one leaf.
const MAX_DEPTH: u32 = 40;
const NONE: u32 = u32::MAX;

/// One square of the quadtree.
#[derive(Clone, Copy)]
struct Cell {
    cx: f64,
    cy: f64,
    half: f64,
    mass: f64,
    sx: f64,
    sy: f64,
    /// First of four consecutive children, or NONE for a leaf.
    children: u32,
    /// The leaf's first node, or NONE when empty.
    body: u32,
}

impl Cell {
    fn new(cx: f64, cy: f64, half: f64) -> Cell {
        Cell {
            cx,
            cy,
            half,
            mass: 0.0,
            sx: 0.0,
            sy: 0.0,
            children: NONE,
            body: NONE,
        }
    }

    fn quadrant(&self, (x, y): Point) -> u32 {
        u32::from(x >= self.cx) + 2 * u32::from(y >= self.cy)
    }
}

/// A Barnes–Hut quadtree in one arena, rebuilt every iteration in node order.
#[derive(Default)]
struct QuadTree {
    cells: Vec<Cell>,
    stack: Vec<u32>,
}

impl QuadTree {
    fn rebuild(&mut self, pos: &[Point]) {
        let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
        for &(x, y) in pos {
            x0 = x0.min(x);
            y0 = y0.min(y);
            x1 = x1.max(x);
            y1 = y1.max(y);
        }
        let half = ((x1 - x0).max(y1 - y0) / 2.0).max(1e-6) * 1.0001;
        self.cells.clear();
        self.cells
            .push(Cell::new((x0 + x1) / 2.0, (y0 + y1) / 2.0, half));
        for (i, &p) in pos.iter().enumerate() {
            self.insert(i as u32, p, pos);
        }
    }

    fn split(&mut self, c: usize) {
        let Cell { cx, cy, half, .. } = self.cells[c];
        let h = half / 2.0;
        self.cells[c].children = self.cells.len() as u32;
        for q in 0..4 {
            let dx = if q & 1 == 1 { h } else { -h };
            let dy = if q & 2 == 2 { h } else { -h };
            self.cells.push(Cell::new(cx + dx, cy + dy, h));
        }
    }

    fn insert(&mut self, i: u32, p: Point, pos: &[Point]) {
        let mut c = 0usize;
        let mut depth = 0;
        loop {
            let cell = &mut self.cells[c];
            if cell.children == NONE {
                if cell.body == NONE {
                    cell.body = i;
                    cell.mass = 1.0;
                    cell.sx = p.0;
                    cell.sy = p.1;
                    return;
                }
                if depth >= MAX_DEPTH {
                    cell.mass += 1.0;
                    cell.sx += p.0;
                    cell.sy += p.1;
                    return;
                }
                // Push the resident node one level down, then carry on with `i`.
                let j = cell.body;
                let (jm, jx, jy) = (cell.mass, cell.sx, cell.sy);
                cell.body = NONE;
                self.split(c);
                let q = self.cells[c].quadrant(pos[j as usize]);
                let at = (self.cells[c].children + q) as usize;
                let child = &mut self.cells[at];
                child.body = j;
                child.mass = jm;
                child.sx = jx;
                child.sy = jy;
            }
            let cell = &mut self.cells[c];
            cell.mass += 1.0;
            cell.sx += p.0;
            cell.sy += p.1;
            c = (cell.children + cell.quadrant(p)) as usize;
            depth += 1;
        }
    }

    /// The summed repulsion on node `i` at `p`, strength `kk` (k²).
    fn repulsion(&mut self, i: usize, p: Point, kk: f64) -> Point {
        let (mut fx, mut fy) = (0.0, 0.0);
        self.stack.clear();
        self.stack.push(0);
        while let Some(c) = self.stack.pop() {
            let cell = self.cells[c as usize];
            let mut mass = cell.mass;
            let (mut sx, mut sy) = (cell.sx, cell.sy);
            if mass == 0.0 {
                continue;
            }
            let leaf = cell.children == NONE;
            if leaf && cell.body == i as u32 {
                // Leave this node out of its own leaf (deep leaves may hold several).
                mass -= 1.0;
                sx -= p.0;
                sy -= p.1;
                if mass < 0.5 {
                    continue;
                }
            }
            let dx = p.0 - sx / mass;
            let dy = p.1 - sy / mass;
            let d2 = dx * dx + dy * dy;
            if leaf || (2.0 * cell.half) * (2.0 * cell.half) < THETA * THETA * d2 {
                let (dx, dy, d2) = if d2 < 1e-12 {
                    // Coincident: push apart along a direction fixed by the index.
                    let s = if i.is_multiple_of(2) { 1e-3 } else { -1e-3 };
                    (s, s * 0.5, 1.25e-6)
                } else {
                    (dx, dy, d2)
                };
                let f = kk * mass / d2;
                fx += dx * f;
                fy += dy * f;
            } else {
                for q in 0..4 {
                    self.stack.push(cell.children + q);
                }
            }
        }
        (fx, fy)
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
    fn barnes_hut_is_close_to_the_exact_sum() {
        let mut rng = SplitMix(5);
        let mut pos: Vec<Point> = (0..600)
            .map(|_| (rng.unit() * 40.0, rng.unit() * 40.0))
            .collect();
        // A tight cluster and two coincident points exercise deep and shared leaves.
        pos.extend((0..50).map(|i| (5.0 + f64::from(i) * 1e-7, 5.0)));
        pos.push((5.0, 5.0));
        let mut tree = QuadTree::default();
        tree.rebuild(&pos);
        let mut worst: f64 = 0.0;
        for i in (0..600).step_by(7) {
            let (ex, ey) = pos.iter().enumerate().filter(|&(j, _)| j != i).fold(
                (0.0, 0.0),
                |(fx, fy), (_, q)| {
                    let (dx, dy) = (pos[i].0 - q.0, pos[i].1 - q.1);
                    let d2 = dx * dx + dy * dy;
                    (fx + dx / d2, fy + dy / d2)
                },
            );
            let (bx, by) = tree.repulsion(i, pos[i], 1.0);
            let err = ((bx - ex).powi(2) + (by - ey).powi(2)).sqrt() / (ex * ex + ey * ey).sqrt();
            worst = worst.max(err);
        }
        assert!(worst < 0.2, "relative error {worst}");
        // Every node is counted once at the root.
        assert_eq!(tree.cells[0].mass, pos.len() as f64);
    }

    #[test]
    fn degenerate_sizes() {
        assert!(layout(0, &[], 1).is_empty());
        assert_eq!(layout(1, &[(0, 0)], 1), vec![(0.5, 0.5)]);
        assert_eq!(layout(2, &[], 1).len(), 2);
    }
}
