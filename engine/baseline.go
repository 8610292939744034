package engine

import "time"

// Baseline returns a valid record of kind k for user u at time at, with
// every nullable column present, so that a boundary walk can change one
// column (Rule.Apply) and see only that column's verdict. at must not be
// after now for symptoms.
func Baseline(k Kind, u UUID, at time.Time) Record {
	switch k {
	case KindHeartRate:
		return &HeartRate{User: u, RecordedAt: at, HeartRate: 70, RestingHeartRate: Some[int32](60),
			HeartRateVariability: Some(45.5), Context: "resting", Source: "baseline"}
	case KindBloodPressure:
		return &BloodPressure{User: u, RecordedAt: at, Systolic: 120, Diastolic: 80, Pulse: Some[int32](70), Source: "baseline"}
	case KindSleep:
		return &Sleep{User: u, Start: at, End: at.Add(8 * time.Hour), DurationMinutes: Some[int32](450),
			DeepMinutes: Some[int32](0), REMMinutes: Some[int32](0), LightMinutes: Some[int32](400),
			Awake: Some[int32](0), Efficiency: Some(92.5), Source: "baseline"}
	case KindWorkout:
		return &Workout{User: u, Type: "running", Start: at, End: at.Add(time.Hour), TotalEnergyKcal: Some(600.0),
			DistanceMeters: Some(10000.0), AvgHeartRate: Some[int32](150), MaxHeartRate: Some[int32](175), Source: "baseline"}
	case KindActivity:
		a := &Activity{User: u, RecordedAt: at, AggregationPeriod: "hourly", Source: "baseline"}
		for i, c := range activityColumns {
			a.Set(i, c.Lo+1)
		}
		return a
	case KindNutrition:
		n := &Nutrition{User: u, RecordedAt: at, AggregationPeriod: "meal", Source: "baseline"}
		for i, c := range nutrientColumns {
			n.Set(i, c.Lo+1)
		}
		return n
	}
	return &Symptom{User: u, RecordedAt: at, Type: "headache", Severity: "mild", DurationMinutes: Some[int32](30),
		OnsetAt: at.Add(-30 * time.Minute), Notes: "baseline", Triggers: []string{"stress"}, Treatments: []string{"rest"},
		Source: "manual"}
}
