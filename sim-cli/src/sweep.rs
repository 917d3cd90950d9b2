//! `sim sweep`, `sim sensitivity` and `sim merge`.

use crate::CliError;

#[derive(clap::Args, Debug)]
pub struct SweepArgs {}

#[derive(clap::Args, Debug)]
pub struct SensitivityArgs {}

#[derive(clap::Args, Debug)]
pub struct MergeArgs {}

pub fn sweep(_args: SweepArgs, _command_line: &[String]) -> Result<(), CliError> {
    Err(CliError::Failed("sweep: not built yet".into()))
}

pub fn sensitivity(_args: SensitivityArgs, _command_line: &[String]) -> Result<(), CliError> {
    Err(CliError::Failed("sensitivity: not built yet".into()))
}

pub fn merge(_args: MergeArgs, _command_line: &[String]) -> Result<(), CliError> {
    Err(CliError::Failed("merge: not built yet".into()))
}
