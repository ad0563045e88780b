package javatime

import (
	"strconv"
	"time"
)

var (
	monthNames = [...]string{"January", "February", "March", "April", "May", "June", "July",
		"August", "September", "October", "November", "December"}
	dayNames = [...]string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"}
	// longZoneNames are the zzzz names this package knows (Java's en_US names).
	longZoneNames = map[string]string{
		"UTC": "Coordinated Universal Time", "GMT": "Greenwich Mean Time",
		"EST": "Eastern Standard Time", "EDT": "Eastern Daylight Time",
		"CST": "Central Standard Time", "CDT": "Central Daylight Time",
		"MST": "Mountain Standard Time", "MDT": "Mountain Daylight Time",
		"PST": "Pacific Standard Time", "PDT": "Pacific Daylight Time",
		"AKST": "Alaska Standard Time", "AKDT": "Alaska Daylight Time",
		"HST": "Hawaii Standard Time",
		"WET": "Western European Time", "WEST": "Western European Summer Time",
		"CET": "Central European Time", "CEST": "Central European Summer Time",
		"EET": "Eastern European Time", "EEST": "Eastern European Summer Time",
		"JST": "Japan Standard Time",
	}
)

// AppendFormat appends t formatted by the layout to b and returns the
// extended buffer. t is formatted in its own location.
func (l *Layout) AppendFormat(b []byte, t time.Time) []byte {
	for _, e := range l.elems {
		b = l.appendElem(b, e, t)
	}
	return b
}

func (l *Layout) appendElem(b []byte, e elem, t time.Time) []byte {
	n := e.count
	switch e.letter {
	case 0:
		return append(b, e.lit...)
	case 'G':
		if t.Year() <= 0 {
			return append(b, "BC"...)
		}
		return append(b, "AD"...)
	case 'y':
		if l.dialect == Joda {
			return appendYear(b, t.Year(), n)
		}
		return appendYear(b, yearOfEra(t.Year()), n)
	case 'Y':
		if l.dialect == Joda {
			return appendYear(b, yearOfEra(t.Year()), n)
		}
		return appendYear(b, usWeekYear(t), n)
	case 'x':
		y, _ := t.ISOWeek()
		return appendYear(b, y, n)
	case 'w':
		if l.dialect == Joda {
			_, w := t.ISOWeek()
			return appendNum(b, w, n)
		}
		return appendNum(b, usWeekOfYear(t), n)
	case 'W':
		// en_US week of month: weeks start on Sunday, week 1 holds the 1st.
		first := int(t.AddDate(0, 0, 1-t.Day()).Weekday())
		return appendNum(b, (t.Day()-1+first)/7+1, n)
	case 'F':
		return appendNum(b, (t.Day()-1)/7+1, n)
	case 'M':
		switch {
		case n >= 4:
			return append(b, monthNames[t.Month()-1]...)
		case n == 3:
			return append(b, monthNames[t.Month()-1][:3]...)
		}
		return appendNum(b, int(t.Month()), n)
	case 'D':
		return appendNum(b, t.YearDay(), n)
	case 'd':
		return appendNum(b, t.Day(), n)
	case 'E':
		if n >= 4 {
			return append(b, dayNames[t.Weekday()]...)
		}
		return append(b, dayNames[t.Weekday()][:3]...)
	case 'u', 'e':
		wd := int(t.Weekday())
		if wd == 0 {
			wd = 7
		}
		return appendNum(b, wd, n)
	case 'a':
		if t.Hour() < 12 {
			return append(b, "AM"...)
		}
		return append(b, "PM"...)
	case 'H':
		return appendNum(b, t.Hour(), n)
	case 'k':
		h := t.Hour()
		if h == 0 {
			h = 24
		}
		return appendNum(b, h, n)
	case 'K':
		return appendNum(b, t.Hour()%12, n)
	case 'h':
		h := t.Hour() % 12
		if h == 0 {
			h = 12
		}
		return appendNum(b, h, n)
	case 'm':
		return appendNum(b, t.Minute(), n)
	case 's':
		return appendNum(b, t.Second(), n)
	case 'S':
		ms := t.Nanosecond() / int(time.Millisecond)
		if l.dialect == SimpleDateFormat {
			return appendNum(b, ms, n)
		}
		// Joda prints the first n digits of the fraction; it only keeps
		// milliseconds.
		digits := []byte{byte('0' + ms/100), byte('0' + ms/10%10), byte('0' + ms%10)}
		for i := range n {
			if i < len(digits) {
				b = append(b, digits[i])
			} else {
				b = append(b, '0')
			}
		}
		return b
	case 'z':
		return l.appendZoneName(b, t, n)
	case 'Z':
		_, off := t.Zone()
		if l.dialect == Joda {
			switch n {
			case 1:
				return appendOffset(b, off, false)
			case 2:
				return appendOffset(b, off, true)
			}
			return append(b, t.Location().String()...)
		}
		return appendOffset(b, off, false)
	case 'X':
		_, off := t.Zone()
		if off == 0 {
			return append(b, 'Z')
		}
		if n == 1 {
			b = appendOffset(b, off, false)
			return b[:len(b)-2]
		}
		return appendOffset(b, off, n == 3)
	}
	return b
}

func (l *Layout) appendZoneName(b []byte, t time.Time, n int) []byte {
	name, off := t.Zone()
	if name == "" || name[0] == '+' || name[0] == '-' {
		// Go names zones without an abbreviation by their offset; Java
		// prints GMT+03:00 (Joda +03:00).
		if l.dialect == SimpleDateFormat {
			b = append(b, "GMT"...)
		}
		return appendOffset(b, off, true)
	}
	if n >= 4 {
		if long, ok := longZoneNames[name]; ok {
			return append(b, long...)
		}
	}
	return append(b, name...)
}

// appendYear formats a year: two digits for a count of 2, else at least
// count digits (Java's rule for y, Y and x).
func appendYear(b []byte, y, n int) []byte {
	if n == 2 {
		y %= 100
		if y < 0 {
			y = -y
		}
	}
	return appendNum(b, y, n)
}

// appendNum appends v zero-padded to at least width digits.
func appendNum(b []byte, v, width int) []byte {
	if v < 0 {
		b = append(b, '-')
		v = -v
	}
	s := strconv.Itoa(v)
	for i := len(s); i < width; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}

// appendOffset appends ±hhmm, or ±hh:mm with colon.
func appendOffset(b []byte, off int, colon bool) []byte {
	sign := byte('+')
	if off < 0 {
		sign = '-'
		off = -off
	}
	b = append(b, sign)
	b = appendNum(b, off/3600, 2)
	if colon {
		b = append(b, ':')
	}
	return appendNum(b, off/60%60, 2)
}

// yearOfEra is Java's YEAR field: 1 BC is year 0 in Go.
func yearOfEra(y int) int {
	if y <= 0 {
		return 1 - y
	}
	return y
}

// usWeekOfYear is the week of usWeekYear holding t.
func usWeekOfYear(t time.Time) int {
	if usWeekYear(t) > t.Year() {
		return 1
	}
	jan1 := int(t.AddDate(0, 0, 1-t.YearDay()).Weekday())
	return (t.YearDay()-1+jan1)/7 + 1
}

// usWeekYear is the week year of en_US's calendar (weeks start on Sunday,
// week 1 is the week holding January 1): the last days of December belong
// to the next year when their week holds January 1.
func usWeekYear(t time.Time) int {
	y := t.Year()
	if t.Month() == time.December && t.Day()+6-int(t.Weekday()) > 31 {
		return y + 1
	}
	return y
}
