//! Calibration files: located errors and target statistics.
