package reqcheck

import "slices"

// Form is one alternative of a oneOf body: its name in the spec, and the
// generated code that decodes and checks the body as that form, returning
// the value it decoded into.
type Form struct {
	Name   string
	Decode func(d *Decoder) any
	// Only are the properties this form declares and no other form allows
	// (given for exclusive forms): a body with one of them can only be meant
	// as this form.
	Only []string
}

// OneOf reads body as each form in turn, each with violations of its own, and
// returns the value of the one form the body fits. A body that fits none
// gets, in vs, one violation saying so and then each form's violations, their
// messages prefixed with the form's name ("as connector: …"); a body that is
// not JSON gets that said once; a body that fits several gets one violation
// naming them. Each form reads the body once: the cost stays linear in its
// size. When the forms are exclusive (the generator has proved that no body
// fits two of them) the first form that fits is the answer, and a valid body
// is read no further. Only the first read checks the body's names: once it
// has found the body to be acceptable JSON, the others need not.
func OneOf(body []byte, vs *Violations, exclusive bool, forms ...Form) any {
	var fits []int
	read := NewDecoder // newTrustedDecoder once a read has found the body acceptable
	var values []any
	var per []Violations
	meant := -1
	for i, f := range forms {
		if exclusive && i == 0 {
			// The first form reads the body straight into vs: a valid body
			// (the common case) costs what a body of one form does.
			start, dropped := len(vs.list), vs.dropped
			d := NewDecoder(body, vs)
			v := f.Decode(d)
			ok, syntactic := d.finish()
			if ok {
				return v
			}
			if syntactic {
				return nil // not JSON: vs says so, once
			}
			read = newTrustedDecoder
			first := Violations{list: slices.Clone(vs.list[start:]), dropped: vs.dropped - dropped}
			vs.list, vs.dropped = vs.list[:start], dropped
			values, per = append(values, v), append(per, first)
			if meant = meantForm(body, forms); meant == 0 {
				break
			}
			continue
		}
		if meant >= 0 && i != meant {
			// Exclusive forms, and the body's names select another: this
			// one cannot fit, and what it finds wrong is not reported.
			values, per = append(values, nil), append(per, Violations{})
			continue
		}
		var fvs Violations
		d := read(body, &fvs)
		v := f.Decode(d)
		ok, syntactic := d.finish()
		read = newTrustedDecoder
		if syntactic {
			// Not JSON, or not acceptable JSON: the same for every form.
			for _, v := range fvs.List() {
				vs.Add(v.Target, v.Message)
			}
			return nil
		}
		if ok && exclusive {
			return v
		}
		if ok {
			fits = append(fits, i)
		}
		values, per = append(values, v), append(per, fvs)
	}
	if meant >= 0 {
		vs.addFrom(&per[meant], "")
		return nil
	}
	names := make([]string, len(forms))
	for i, f := range forms {
		names[i] = f.Name
	}
	switch {
	case len(fits) == 1:
		return values[fits[0]]
	case len(fits) > 1:
		matched := make([]string, len(fits))
		for i, j := range fits {
			matched[i] = names[j]
		}
		vs.Add("", MsgOneOfSeveral(matched))
		return nil
	}
	if meant = meantForm(body, forms); meant >= 0 {
		// The body's own property names say which form it is meant as: the
		// others fail on those names alone, which would only bury what is
		// wrong with it. Its violations are that form's, as for a body of one.
		vs.addFrom(&per[meant], "")
		return nil
	}
	if same := slices.IndexFunc(per, func(p Violations) bool { return !slices.Equal(p.list, per[0].list) }) < 0; same {
		// Every form finds the same wrong (a body that is not an object): said once.
		vs.addFrom(&per[0], "")
		return nil
	}
	vs.Add("", MsgOneOfNone(names))
	for i, f := range forms {
		vs.addFrom(&per[i], "as "+f.Name+": ")
	}
	return nil
}

// meantForm is the one form whose Only names the body's top-level
// properties, or -1 when they name none or several. It reads the body once
// more, on the failing path only.
func meantForm(body []byte, forms []Form) int {
	meant := -1
	var vs Violations
	d := newTrustedDecoder(body, &vs) // after a read that found the body acceptable JSON
	if !d.Object() {
		return -1
	}
	for d.Next() {
		name := string(d.Name())
		for i, f := range forms {
			if i != meant && slices.Contains(f.Only, name) {
				if meant >= 0 {
					return -1
				}
				meant = i
			}
		}
		d.Skip()
	}
	return meant
}
