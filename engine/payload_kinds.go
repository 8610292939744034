package engine

// Per-kind mapping from payload fields to columns. Field names follow the
// fixtures where they exist (HeartRate, Activity); elsewhere they equal the
// column names. source_device (or source) feeds source everywhere. Fields
// without a column (id, created_at, vo2_max_ml_kg_min, ...) are ignored.

func buildRecord(k Kind, fr *fieldReader) Record {
	switch k {
	case KindHeartRate:
		return &HeartRate{User: fr.user(), RecordedAt: fr.time(true, "recorded_at"),
			HeartRate: fr.requiredInt("heart_rate"), RestingHeartRate: fr.int("resting_heart_rate"),
			HeartRateVariability: fr.float("heart_rate_variability"), Context: fr.str("context"), Source: fr.source()}
	case KindBloodPressure:
		return &BloodPressure{User: fr.user(), RecordedAt: fr.time(true, "recorded_at"),
			Systolic: fr.requiredInt("systolic"), Diastolic: fr.requiredInt("diastolic"),
			Pulse: fr.int("pulse"), Source: fr.source()}
	case KindSleep:
		return &Sleep{User: fr.user(), Start: fr.time(true, "sleep_start"), End: fr.time(true, "sleep_end"),
			DurationMinutes: fr.int("duration_minutes"), DeepMinutes: fr.int("deep_sleep_minutes"),
			REMMinutes: fr.int("rem_sleep_minutes"), LightMinutes: fr.int("light_sleep_minutes"),
			Awake: fr.int("awake_minutes"), Efficiency: fr.float("efficiency"), Source: fr.source()}
	case KindWorkout:
		return buildWorkout(fr)
	case KindActivity:
		return buildActivity(fr)
	case KindNutrition:
		return buildNutrition(fr)
	}
	return buildSymptom(fr)
}

func buildWorkout(fr *fieldReader) Record {
	w := &Workout{User: fr.user(), Type: fr.str("workout_type"),
		Start: fr.time(true, "started_at", "start_time"), End: fr.time(true, "ended_at", "end_time"),
		TotalEnergyKcal: fr.float("total_energy_kcal"), DistanceMeters: fr.float("distance_meters"),
		AvgHeartRate: fr.int("avg_heart_rate"), MaxHeartRate: fr.int("max_heart_rate"), Source: fr.source()}
	if w.Type == "" && fr.err == nil {
		fr.fail("workout_type", errMissing)
	}
	return w
}

// activityAliases gives, per Act* index, the payload names the service
// used (first) and the column name.
var activityAliases = [ActivityFieldCount][]string{
	ActStepCount:              {"step_count"},
	ActFlightsClimbed:         {"flights_climbed"},
	ActDistanceWalkingRunning: {"distance_meters", "distance_walking_running_meters"},
	ActDistanceCycling:        {"distance_cycling_meters"},
	ActDistanceSwimming:       {"distance_swimming_meters"},
	ActDistanceWheelchair:     {"distance_wheelchair_meters"},
	ActDistanceSnowSports:     {"distance_downhill_snow_sports_meters"},
	ActPushCount:              {"push_count"},
	ActSwimmingStrokeCount:    {"swimming_stroke_count"},
	ActNikeFuel:               {"nike_fuel_points", "nike_fuel"},
	ActActiveEnergy:           {"active_energy_burned_kcal"},
	ActBasalEnergy:            {"basal_energy_burned_kcal"},
	ActExerciseTime:           {"apple_exercise_time_minutes", "exercise_time_minutes"},
	ActStandTime:              {"apple_stand_time_minutes", "stand_time_minutes"},
	ActMoveTime:               {"apple_move_time_minutes", "move_time_minutes"},
}

func buildActivity(fr *fieldReader) Record {
	a := &Activity{User: fr.user(), RecordedAt: fr.time(true, "recorded_at")}
	for i, c := range activityColumns {
		if c.Scale == 0 {
			if o := fr.int(activityAliases[i]...); o.Valid {
				a.Set(i, float64(o.V))
			}
		} else if o := fr.float(activityAliases[i]...); o.Valid {
			a.Set(i, o.V)
		}
	}
	a.StandHourAchieved = fr.bool("apple_stand_hour_achieved", "stand_hour_achieved")
	a.AggregationPeriod = fr.str("aggregation_period")
	a.Source = fr.source()
	return a
}

func buildNutrition(fr *fieldReader) Record {
	n := &Nutrition{User: fr.user(), RecordedAt: fr.time(true, "recorded_at")}
	for i, c := range nutrientColumns {
		if o := fr.float(c.Name); o.Valid {
			n.Set(i, o.V)
		}
	}
	n.AggregationPeriod = fr.str("aggregation_period")
	n.Source = fr.source()
	return n
}

func buildSymptom(fr *fieldReader) Record {
	s := &Symptom{User: fr.user(), RecordedAt: fr.time(true, "recorded_at"), Type: fr.str("symptom_type"),
		Severity: fr.str("severity"), DurationMinutes: fr.int("duration_minutes"), OnsetAt: fr.time(false, "onset_at"),
		Notes: fr.str("notes"), Triggers: fr.strings("triggers"), Treatments: fr.strings("treatments"),
		Source: fr.source()}
	if s.Type == "" && fr.err == nil {
		fr.fail("symptom_type", errMissing)
	}
	return s
}
