package properties

import (
	"maps"
	"strings"
	"testing"
)

func TestLoad(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    map[string]string
		wantErr bool
	}{
		{name: "separators", in: "a=1\nb: 2\nc 3\nd=\n", want: map[string]string{"a": "1", "b": "2", "c": "3", "d": ""}},
		{name: "comments and blanks", in: "# c\n! c\n\n  x = y  \n", want: map[string]string{"x": "y  "}},
		{name: "continuation", in: "list=a,\\\n    b,\\\n    c\n", want: map[string]string{"list": "a,b,c"}},
		{name: "escapes", in: `k\:ey=v\tal\u0041` + "\n", want: map[string]string{"k:ey": "v\talA"}},
		{name: "later wins", in: "a=1\na=2", want: map[string]string{"a": "2"}},
		{name: "connect file", in: "name=local-file-source\nconnector.class=FileStreamSource\ntasks.max=1\nfile=test.txt\ntopic=connect-test\n",
			want: map[string]string{"name": "local-file-source", "connector.class": "FileStreamSource", "tasks.max": "1", "file": "test.txt", "topic": "connect-test"}},
		{name: "bad unicode", in: `a=\u12`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Load(strings.NewReader(tt.in))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if !tt.wantErr && !maps.Equal(got, tt.want) {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}
