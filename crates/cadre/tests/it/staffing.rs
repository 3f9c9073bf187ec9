//! The staffing matcher against hand-made scenarios and against brute force on small random instances.

use cadre::staffing::{Location, Person, Post, Shortfall, match_people_to_posts, scaled_fit};
use proptest::prelude::*;

fn person(lat: f64, lon: f64, skills: &str) -> Person {
    Person {
        location: Location::new(lat, lon).expect("valid"),
        skills: split(skills),
    }
}

fn post(lat: f64, lon: f64, skills: &str, places: u32) -> Post {
    Post {
        location: Location::new(lat, lon).expect("valid"),
        skills: split(skills),
        places,
    }
}

fn split(skills: &str) -> Vec<String> {
    skills
        .split(';')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// Runs the matcher and compares `(person, post)` pairs and the unmatched people.
fn check(people: &[Person], posts: &[Post], max_km: f64, placed: &[(usize, usize)], unmatched: &[usize]) {
    let staffing = match_people_to_posts(people, posts, max_km).expect("valid input");
    let got: Vec<(usize, usize)> = staffing.placements.iter().map(|p| (p.person, p.post)).collect();
    assert_eq!(got, placed);
    assert_eq!(staffing.unmatched, unmatched);
}

#[test]
fn a_greedy_pass_would_take_the_wrong_post() {
    // Person 0 fits both posts a little better than person 1 fits post 0, but person 1 fits only post 0:
    // greedy by best fit gives person 0 post 0 and leaves person 1 out; the optimum places both.
    let people = [person(30.0, 120.0, "law;health"), person(30.0, 120.0, "law")];
    let posts = [post(30.0, 120.0, "law", 1), post(30.05, 120.0, "health", 1)];
    check(&people, &posts, 50.0, &[(0, 1), (1, 0)], &[]);
}

#[test]
fn places_limit_a_post_and_the_nearest_win() {
    let people = [
        person(30.0, 120.0, "law"),
        person(30.3, 120.0, "law"),
        person(30.01, 120.0, "law"),
    ];
    let posts = [post(30.0, 120.0, "law", 2)];
    check(&people, &posts, 50.0, &[(0, 0), (2, 0)], &[1]);
}

#[test]
fn no_shared_skill_or_too_far_is_not_allowed_and_the_reasons_are_told() {
    let people = [
        person(30.0, 120.0, "welding"),
        person(31.0, 120.0, "law"),
        person(30.0, 120.0, "law"),
    ];
    let posts = [post(30.0, 120.0, "law", 1)];
    let staffing = match_people_to_posts(&people, &posts, 50.0).expect("valid");
    assert_eq!(staffing.unmatched, vec![0, 1]);
    let reasons: Vec<(Vec<String>, Shortfall)> = staffing
        .unmatched_groups
        .iter()
        .map(|g| (g.skills.clone(), g.shortfall))
        .collect();
    assert_eq!(
        reasons,
        vec![
            (vec!["welding".to_string()], Shortfall::NoPostWithTheirSkills),
            (vec!["law".to_string()], Shortfall::PostsOutOfReach),
        ]
    );
}

#[test]
fn fit_is_ten_per_shared_skill_less_a_tenth_of_the_km() {
    let staffing =
        match_people_to_posts(&[person(30.0, 120.0, "a;b;c")], &[post(30.0, 120.1, "a;b;d", 1)], 50.0).expect("valid");
    let placement = &staffing.placements[0];
    assert_eq!(placement.shared_skills, 2);
    assert!((placement.km - 9.6298).abs() < 0.001, "{}", placement.km);
    assert!((staffing.total_fit() - (20.0 - placement.km / 10.0)).abs() < 1e-4);
}

#[test]
fn a_bad_maximum_distance_is_refused() {
    assert!(match_people_to_posts(&[], &[], f64::NAN).is_err());
    assert!(match_people_to_posts(&[], &[], -1.0).is_err());
}

/// The best total by trying every choice of post (or none) for every person.
fn brute_force(people: &[Person], posts: &[Post], max_km: f64) -> i64 {
    fn fit(person: &Person, post: &Post, max_km: f64) -> Option<i64> {
        let mut skills = person.skills.clone();
        skills.sort();
        skills.dedup();
        let shared = skills.iter().filter(|s| post.skills.contains(s)).count() as u32;
        let km = person.location.km_to(&post.location);
        (shared > 0 && km <= max_km).then(|| scaled_fit(shared, km))
    }
    fn best(index: usize, people: &[Person], posts: &[Post], left: &mut [u32], max_km: f64) -> i64 {
        if index == people.len() {
            return 0;
        }
        let mut top = best(index + 1, people, posts, left, max_km);
        for (post_index, post) in posts.iter().enumerate() {
            if left[post_index] == 0 {
                continue;
            }
            if let Some(fit) = fit(&people[index], post, max_km) {
                left[post_index] -= 1;
                top = top.max(fit + best(index + 1, people, posts, left, max_km));
                left[post_index] += 1;
            }
        }
        top
    }
    let mut left: Vec<u32> = posts.iter().map(|p| p.places).collect();
    best(0, people, posts, &mut left, max_km)
}

fn arbitrary_skills() -> impl Strategy<Value = String> {
    proptest::collection::vec(prop_oneof!["a", "b", "c", "d"], 0..3).prop_map(|s| s.join(";"))
}

fn arbitrary_person() -> impl Strategy<Value = Person> {
    (30.0..30.8f64, 119.5..120.3f64, arbitrary_skills()).prop_map(|(lat, lon, skills)| person(lat, lon, &skills))
}

fn arbitrary_post() -> impl Strategy<Value = Post> {
    (30.0..30.8f64, 119.5..120.3f64, arbitrary_skills(), 0..3u32)
        .prop_map(|(lat, lon, skills, places)| post(lat, lon, &skills, places))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]
    #[test]
    fn the_total_is_the_brute_force_optimum(
        people in proptest::collection::vec(arbitrary_person(), 0..7),
        posts in proptest::collection::vec(arbitrary_post(), 0..4),
        max_km in prop_oneof![Just(30.0), Just(50.0), Just(200.0)],
    ) {
        let staffing = match_people_to_posts(&people, &posts, max_km).expect("valid");
        prop_assert_eq!(staffing.total_scaled_fit, brute_force(&people, &posts, max_km));
        let mut filled = vec![0u32; posts.len()];
        for placement in &staffing.placements {
            filled[placement.post] += 1;
        }
        for (post, filled) in posts.iter().zip(filled) {
            prop_assert!(filled <= post.places);
        }
        prop_assert_eq!(staffing.placements.len() + staffing.unmatched.len(), people.len());
    }
}
