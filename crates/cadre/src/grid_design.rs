//! Grid design: divide a unit's H3 cells into contiguous, compact grids of balanced workload (issue 14, part 2).
//!
//! Three steps, all deterministic:
//! 1. **Seeds** by farthest-point sampling weighted by workload (a deterministic k-means++): the first seed is the
//!    cell nearest the workload centroid, each next one the cell maximising `workload × squared distance` to its
//!    nearest seed, so seeds spread over the territory and crowd where the work is.
//! 2. **Balanced region growing** over the H3 adjacency graph: the grid with the least workload so far takes the
//!    free neighbouring cell nearest its seed, until no grid can grow. Cells no grid reached (islands of the unit
//!    cut off from every seed) join the grid with the nearest seed.
//! 3. **Boundary refinement**: a cell on a boundary moves from the heavier to the lighter grid when that narrows the
//!    gap between the two and leaves the heavier grid connected, for a fixed number of passes.
//!
//! Compactness of a grid is the minimum perimeter of any polyhex of its size (`2⌈√(12n − 3)⌉` edges) over its
//! perimeter: 1 for a hexagon-like blob, lower for a straggling one.

use h3o::CellIndex;
use std::collections::{BinaryHeap, HashMap, VecDeque};

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum DesignError {
    #[error("cell {0:#x} is not a valid H3 cell")]
    BadCell(u64),
    #[error("cell {0:#x} is listed twice")]
    DuplicateCell(u64),
    #[error("{grids} grids asked for {cells} cells: need at least one cell per grid and at least one grid")]
    GridCount { grids: usize, cells: usize },
}

/// The cells of a unit with the expected workload of each, and their adjacency.
pub struct CellGraph {
    cells: Vec<u64>,
    workload: Vec<f64>,
    /// Plane coordinates (km east and north of the first cell), for distances.
    position: Vec<(f64, f64)>,
    neighbours: Vec<Vec<u32>>,
}

impl CellGraph {
    pub fn new(cells: &[u64], workload: &[f64]) -> Result<Self, DesignError> {
        let mut index: HashMap<u64, u32> = HashMap::with_capacity(cells.len());
        let mut parsed = Vec::with_capacity(cells.len());
        for (at, &cell) in cells.iter().enumerate() {
            let parsed_cell = CellIndex::try_from(cell).map_err(|_| DesignError::BadCell(cell))?;
            if index.insert(cell, at as u32).is_some() {
                return Err(DesignError::DuplicateCell(cell));
            }
            parsed.push(parsed_cell);
        }
        let origin = parsed.first().map(|c| h3o::LatLng::from(*c));
        let position = parsed
            .iter()
            .map(|cell| {
                let ll = h3o::LatLng::from(*cell);
                let origin = origin.unwrap_or(ll);
                let east = (ll.lng() - origin.lng()).to_radians() * origin.lat().to_radians().cos() * 6371.0088;
                let north = (ll.lat() - origin.lat()).to_radians() * 6371.0088;
                (east, north)
            })
            .collect();
        let neighbours = parsed
            .iter()
            .map(|cell| {
                let mut list: Vec<u32> = cell
                    .grid_disk::<Vec<_>>(1)
                    .into_iter()
                    .filter(|n| n != cell)
                    .filter_map(|n| index.get(&u64::from(n)).copied())
                    .collect();
                list.sort_unstable();
                list
            })
            .collect();
        Ok(Self {
            cells: cells.to_vec(),
            workload: workload.to_vec(),
            position,
            neighbours,
        })
    }

    pub fn len(&self) -> usize {
        self.cells.len()
    }

    /// The indexes of a cell's neighbours among the graph's cells.
    pub fn neighbours(&self, cell: usize) -> &[u32] {
        &self.neighbours[cell]
    }

    pub fn is_empty(&self) -> bool {
        self.cells.is_empty()
    }

    fn squared_km(&self, a: usize, b: usize) -> f64 {
        let (pa, pb) = (self.position[a], self.position[b]);
        (pa.0 - pb.0).powi(2) + (pa.1 - pb.1).powi(2)
    }

    /// Figures of a division given as the grid of each cell (grids `0..count`).
    pub fn figures(&self, grid_of: &[u32], count: usize) -> Figures {
        let mut workload = vec![0.0; count];
        let mut cells = vec![0usize; count];
        let mut perimeter = vec![0usize; count];
        for (cell, &grid) in grid_of.iter().enumerate() {
            workload[grid as usize] += self.workload[cell];
            cells[grid as usize] += 1;
            let inside = self.neighbours[cell]
                .iter()
                .filter(|&&n| grid_of[n as usize] == grid)
                .count();
            perimeter[grid as usize] += 6 - inside;
        }
        let compactness: Vec<f64> = cells
            .iter()
            .zip(&perimeter)
            .map(|(&n, &p)| {
                if p == 0 {
                    1.0
                } else {
                    minimum_perimeter(n) as f64 / p as f64
                }
            })
            .collect();
        let max = workload.iter().copied().fold(f64::MIN, f64::max);
        let min = workload.iter().copied().fold(f64::MAX, f64::min);
        Figures {
            max_min_ratio: if min > 0.0 { max / min } else { f64::INFINITY },
            mean_compactness: compactness.iter().sum::<f64>() / count.max(1) as f64,
            workload,
            compactness,
        }
    }
}

/// `2⌈√(12n − 3)⌉`: the fewest edges around any polyhex of `n` cells (Harary & Harborth, 1976).
fn minimum_perimeter(n: usize) -> usize {
    if n == 0 {
        return 0;
    }
    2 * ((12.0 * n as f64 - 3.0).sqrt() - 1e-9).ceil() as usize
}

/// Balance and shape of a division.
#[derive(Debug, Clone, PartialEq)]
pub struct Figures {
    pub workload: Vec<f64>,
    pub compactness: Vec<f64>,
    /// Heaviest over lightest grid workload (infinite when a grid has none).
    pub max_min_ratio: f64,
    pub mean_compactness: f64,
}

/// A proposed division: the grid (0-based) of every cell, in the order of the graph's cells.
#[derive(Debug, Clone, PartialEq)]
pub struct Design {
    pub grid_of: Vec<u32>,
    pub grids: usize,
}

/// Divides the graph's cells into `grids` contiguous grids of balanced workload; see the module documentation.
pub fn design(graph: &CellGraph, grids: usize, refinement_passes: usize) -> Result<Design, DesignError> {
    let n = graph.len();
    if grids == 0 || grids > n {
        return Err(DesignError::GridCount { grids, cells: n });
    }
    let seeds = seeds(graph, grids);
    let mut grid_of = grow(graph, &seeds);
    refine(graph, &mut grid_of, grids, refinement_passes);
    Ok(Design { grid_of, grids })
}

/// Weighted farthest-point seeds (a deterministic k-means++). Cells without workload weigh a little, so that a
/// quiet area still gets seeds when the work is all elsewhere.
fn seeds(graph: &CellGraph, count: usize) -> Vec<usize> {
    let n = graph.len();
    let total: f64 = graph.workload.iter().sum();
    let floor = (total / n as f64) * 0.05 + 1e-9;
    let weight: Vec<f64> = graph.workload.iter().map(|w| w + floor).collect();
    let weight_sum: f64 = weight.iter().sum();
    let centroid = (0..n).fold((0.0, 0.0), |acc, c| {
        (
            acc.0 + graph.position[c].0 * weight[c] / weight_sum,
            acc.1 + graph.position[c].1 * weight[c] / weight_sum,
        )
    });
    let first = (0..n)
        .min_by(|&a, &b| {
            let da = (graph.position[a].0 - centroid.0).powi(2) + (graph.position[a].1 - centroid.1).powi(2);
            let db = (graph.position[b].0 - centroid.0).powi(2) + (graph.position[b].1 - centroid.1).powi(2);
            da.total_cmp(&db)
        })
        .unwrap_or(0);
    let mut seeds = vec![first];
    let mut nearest: Vec<f64> = (0..n).map(|c| graph.squared_km(c, first)).collect();
    // Candidates by `weight × squared distance to the nearest seed`, largest first; keys only shrink, so a stale
    // entry is recognised on popping and pushed back with its current key.
    let mut candidates: BinaryHeap<(Ordered, std::cmp::Reverse<usize>)> = (0..n)
        .map(|c| (Ordered(weight[c] * nearest[c]), std::cmp::Reverse(c)))
        .collect();
    let mut seen = vec![usize::MAX; n];
    let mut is_seed = vec![false; n];
    is_seed[first] = true;
    let mut queue = VecDeque::new();
    while seeds.len() < count {
        let Some((Ordered(key), std::cmp::Reverse(next))) = candidates.pop() else {
            break;
        };
        let current = weight[next] * nearest[next];
        if key != current {
            candidates.push((Ordered(current), std::cmp::Reverse(next)));
            continue;
        }
        if is_seed[next] {
            continue;
        }
        is_seed[next] = true;
        seeds.push(next);
        // The cells the new seed is nearer to lie around it: a breadth-first search from it, which stops at cells
        // it does not improve, updates them without visiting the whole unit. Cells it cannot reach keep a larger
        // distance than true, which only makes them likelier seeds for their own part of the unit.
        nearest[next] = 0.0;
        seen[next] = seeds.len();
        queue.push_back(next);
        while let Some(cell) = queue.pop_front() {
            for &neighbour in &graph.neighbours[cell] {
                let neighbour = neighbour as usize;
                if seen[neighbour] == seeds.len() {
                    continue;
                }
                seen[neighbour] = seeds.len();
                let distance = graph.squared_km(neighbour, next);
                if distance < nearest[neighbour] {
                    nearest[neighbour] = distance;
                    queue.push_back(neighbour);
                }
            }
        }
    }
    seeds
}

/// Total order on f64 for the heaps (workloads and distances are finite).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Ordered(f64);
impl Eq for Ordered {}
impl PartialOrd for Ordered {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Ordered {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0)
    }
}

const FREE: u32 = u32::MAX;

/// Balanced region growing from the seeds over the adjacency graph.
fn grow(graph: &CellGraph, seeds: &[usize]) -> Vec<u32> {
    use std::cmp::Reverse;
    let n = graph.len();
    let mut grid_of = vec![FREE; n];
    let mut load = vec![0.0; seeds.len()];
    // Each grid's frontier: free neighbouring cells by distance to its seed.
    let mut frontier: Vec<BinaryHeap<Reverse<(Ordered, u32)>>> = vec![BinaryHeap::new(); seeds.len()];
    // Grids by workload so far, lightest first.
    let mut lightest: BinaryHeap<Reverse<(Ordered, u32)>> = BinaryHeap::new();
    for (grid, &seed) in seeds.iter().enumerate() {
        grid_of[seed] = grid as u32;
        load[grid] = graph.workload[seed];
    }
    for (grid, &seed) in seeds.iter().enumerate() {
        for &next in &graph.neighbours[seed] {
            if grid_of[next as usize] == FREE {
                frontier[grid].push(Reverse((Ordered(graph.squared_km(seed, next as usize)), next)));
            }
        }
        lightest.push(Reverse((Ordered(load[grid]), grid as u32)));
    }
    while let Some(Reverse((Ordered(at_load), grid))) = lightest.pop() {
        let grid_index = grid as usize;
        if at_load != load[grid_index] {
            continue;
        }
        let mut taken = None;
        while let Some(Reverse((_, cell))) = frontier[grid_index].pop() {
            if grid_of[cell as usize] == FREE {
                taken = Some(cell as usize);
                break;
            }
        }
        let Some(cell) = taken else { continue };
        grid_of[cell] = grid;
        load[grid_index] += graph.workload[cell];
        let seed = seeds[grid_index];
        for &next in &graph.neighbours[cell] {
            if grid_of[next as usize] == FREE {
                frontier[grid_index].push(Reverse((Ordered(graph.squared_km(seed, next as usize)), next)));
            }
        }
        lightest.push(Reverse((Ordered(load[grid_index]), grid)));
    }
    for (cell, grid) in grid_of.iter_mut().enumerate() {
        if *grid == FREE {
            let nearest = (0..seeds.len())
                .min_by(|&a, &b| {
                    graph
                        .squared_km(cell, seeds[a])
                        .total_cmp(&graph.squared_km(cell, seeds[b]))
                })
                .unwrap_or(0);
            *grid = nearest as u32;
        }
    }
    grid_of
}

/// Moves boundary cells from heavier to lighter neighbouring grids while that narrows their gap and keeps the
/// heavier grid connected.
fn refine(graph: &CellGraph, grid_of: &mut [u32], grids: usize, passes: usize) {
    let mut load = vec![0.0; grids];
    let mut size = vec![0usize; grids];
    for (cell, &grid) in grid_of.iter().enumerate() {
        load[grid as usize] += graph.workload[cell];
        size[grid as usize] += 1;
    }
    for _ in 0..passes {
        let mut moved = 0;
        for cell in 0..graph.len() {
            let from = grid_of[cell] as usize;
            if size[from] <= 1 {
                continue;
            }
            let work = graph.workload[cell];
            // The lightest neighbouring grid that this move brings closer to the donor.
            let target = graph.neighbours[cell]
                .iter()
                .map(|&n| grid_of[n as usize] as usize)
                .filter(|&to| to != from && load[to] + work < load[from])
                .min_by(|&a, &b| load[a].total_cmp(&load[b]).then(a.cmp(&b)));
            let Some(to) = target else { continue };
            if work <= 0.0 {
                continue;
            }
            if !stays_connected(graph, grid_of, cell, from) {
                continue;
            }
            grid_of[cell] = to as u32;
            load[from] -= work;
            load[to] += work;
            size[from] -= 1;
            size[to] += 1;
            moved += 1;
        }
        if moved == 0 {
            break;
        }
    }
}

/// Whether the cells of `grid` other than `removed` are still connected: a breadth-first search from one of its
/// neighbours in the grid must reach the others without it. Grids are small, so the search is short.
fn stays_connected(graph: &CellGraph, grid_of: &[u32], removed: usize, grid: usize) -> bool {
    let same: Vec<u32> = graph.neighbours[removed]
        .iter()
        .copied()
        .filter(|&n| grid_of[n as usize] as usize == grid)
        .collect();
    if same.len() <= 1 {
        return true;
    }
    let mut seen: std::collections::HashSet<u32> = std::collections::HashSet::new();
    let mut queue = VecDeque::from([same[0]]);
    seen.insert(same[0]);
    let mut found = 1;
    while let Some(cell) = queue.pop_front() {
        for &next in &graph.neighbours[cell as usize] {
            if next as usize == removed || grid_of[next as usize] as usize != grid || seen.contains(&next) {
                continue;
            }
            seen.insert(next);
            if same.contains(&next) {
                found += 1;
                if found == same.len() {
                    return true;
                }
            }
            queue.push_back(next);
        }
    }
    false
}
