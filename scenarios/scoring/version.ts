/**
 * The version of the scoring rules. Every score and summary records it, so stored results say
 * which rules made them; raise it whenever a change makes any field of a score or summary mean or
 * compute something different, and note the change in scenarios/scoring/METRICS.md ("Scoring versions").
 */
export const SCORING_VERSION = 2;
