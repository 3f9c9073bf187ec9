//! `grassroots evaluate`: the command-line front of the difference-in-differences engine (being built).

#[derive(clap::Args)]
pub struct EvaluateArgs {}

pub fn run(_args: &EvaluateArgs) -> anyhow::Result<()> {
    anyhow::bail!("evaluate is not built yet")
}
