package engine

import (
	"fmt"
	"math"
	"strconv"
)

// Config holds the bounds the original service made configurable through
// VALIDATION_* environment variables, with the same defaults.
//
// How they relate to the database CHECKs: NewRules intersects every
// configured range with the column's CHECK range. A stricter setting narrows
// Go validation; a looser one cannot widen it past the CHECK, so Go never
// passes a value the database would then reject. Bounds without a CHECK
// (sleep tolerance, workout duration) are Go-only rules.
type Config struct {
	HeartRateMin, HeartRateMax               float64 // heart_rate, resting_heart_rate, blood pressure pulse
	SystolicMin, SystolicMax                 float64
	DiastolicMin, DiastolicMax               float64
	SleepEfficiencyMin, SleepEfficiencyMax   float64
	SleepDurationToleranceMinutes            float64
	StepCountMin, StepCountMax               float64 // activity step_count
	DistanceMaxKM                            float64 // workouts.distance_meters (see NewRules)
	CaloriesMax                              float64 // workouts.total_energy_kcal, activity active energy
	WorkoutHeartRateMin, WorkoutHeartRateMax float64
	WorkoutMaxDurationHours                  float64
}

// DefaultConfig returns the original service's defaults.
func DefaultConfig() Config {
	return Config{
		HeartRateMin: 15, HeartRateMax: 300,
		SystolicMin: 50, SystolicMax: 250,
		DiastolicMin: 30, DiastolicMax: 150,
		SleepEfficiencyMin: 0, SleepEfficiencyMax: 100,
		SleepDurationToleranceMinutes: 60,
		StepCountMin:                  0, StepCountMax: 200000,
		DistanceMaxKM:       500,
		CaloriesMax:         20000,
		WorkoutHeartRateMin: 15, WorkoutHeartRateMax: 300,
		WorkoutMaxDurationHours: 24,
	}
}

type envVar struct {
	name   string
	legacy string // older name still honoured (steps → step_count, cd0e2c9)
	field  *float64
}

func (c *Config) vars() []envVar {
	return []envVar{
		{"VALIDATION_HEART_RATE_MIN", "", &c.HeartRateMin},
		{"VALIDATION_HEART_RATE_MAX", "", &c.HeartRateMax},
		{"VALIDATION_SYSTOLIC_MIN", "", &c.SystolicMin},
		{"VALIDATION_SYSTOLIC_MAX", "", &c.SystolicMax},
		{"VALIDATION_DIASTOLIC_MIN", "", &c.DiastolicMin},
		{"VALIDATION_DIASTOLIC_MAX", "", &c.DiastolicMax},
		{"VALIDATION_SLEEP_EFFICIENCY_MIN", "", &c.SleepEfficiencyMin},
		{"VALIDATION_SLEEP_EFFICIENCY_MAX", "", &c.SleepEfficiencyMax},
		{"VALIDATION_SLEEP_DURATION_TOLERANCE_MINUTES", "", &c.SleepDurationToleranceMinutes},
		{"VALIDATION_STEP_COUNT_MIN", "VALIDATION_STEPS_MIN", &c.StepCountMin},
		{"VALIDATION_STEP_COUNT_MAX", "VALIDATION_STEPS_MAX", &c.StepCountMax},
		{"VALIDATION_DISTANCE_MAX_KM", "", &c.DistanceMaxKM},
		{"VALIDATION_CALORIES_MAX", "", &c.CaloriesMax},
		{"VALIDATION_WORKOUT_HEART_RATE_MIN", "", &c.WorkoutHeartRateMin},
		{"VALIDATION_WORKOUT_HEART_RATE_MAX", "", &c.WorkoutHeartRateMax},
		{"VALIDATION_WORKOUT_MAX_DURATION_HOURS", "", &c.WorkoutMaxDurationHours},
	}
}

// ConfigFromEnv starts from DefaultConfig and overrides every variable that
// getenv returns non-empty (pass os.Getenv). It fails on a value that is not
// a finite number, and on a min that is not below its max, naming the
// variables.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	c := DefaultConfig()
	for _, v := range c.vars() {
		name, raw := v.name, getenv(v.name)
		if raw == "" && v.legacy != "" {
			name, raw = v.legacy, getenv(v.legacy)
		}
		if raw == "" {
			continue
		}
		f, err := strconv.ParseFloat(raw, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return Config{}, fmt.Errorf("%s=%q: not a finite number", name, raw)
		}
		*v.field = f
	}
	return c, c.Check()
}

// Check reports the first inconsistent setting: a min not below its max, a
// negative tolerance, or a maximum or duration that is not positive.
func (c Config) Check() error {
	vars := c.vars()
	for i := 0; i+1 < len(vars); i++ {
		lo, hi := vars[i], vars[i+1]
		if len(lo.name) > 4 && lo.name[len(lo.name)-4:] == "_MIN" && hi.name[:len(hi.name)-4] == lo.name[:len(lo.name)-4] &&
			!(*lo.field < *hi.field) {
			return fmt.Errorf("%s (%g) must be less than %s (%g)", lo.name, *lo.field, hi.name, *hi.field)
		}
	}
	for _, v := range vars {
		if v.field == &c.SleepDurationToleranceMinutes && !(*v.field >= 0) {
			return fmt.Errorf("%s (%g) must not be negative", v.name, *v.field)
		}
		if v.field == &c.DistanceMaxKM ||
			v.field == &c.CaloriesMax || v.field == &c.WorkoutMaxDurationHours {
			if !(*v.field > 0) {
				return fmt.Errorf("%s (%g) must be positive", v.name, *v.field)
			}
		}
	}
	return nil
}
