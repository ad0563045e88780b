package mysqlcdc

import (
	"strings"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/korean"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"
	"golang.org/x/text/encoding/unicode"
)

// charsets decode the binlog's bytes of string columns whose character
// set is not UTF-8 (the snapshot's come converted by the server). MySQL's
// latin1 is Windows-1252, as Debezium decodes it (Java's Cp1252).
var charsets = map[string]encoding.Encoding{
	"latin1": charmap.Windows1252, "latin2": charmap.ISO8859_2, "latin5": charmap.ISO8859_9, "latin7": charmap.ISO8859_13,
	"cp1250": charmap.Windows1250, "cp1251": charmap.Windows1251, "cp1256": charmap.Windows1256, "cp1257": charmap.Windows1257,
	"cp850": charmap.CodePage850, "cp852": charmap.CodePage852, "cp866": charmap.CodePage866,
	"greek": charmap.ISO8859_7, "hebrew": charmap.ISO8859_8, "koi8r": charmap.KOI8R, "koi8u": charmap.KOI8U,
	"macroman": charmap.Macintosh, "sjis": japanese.ShiftJIS, "cp932": japanese.ShiftJIS, "ujis": japanese.EUCJP,
	"eucjpms": japanese.EUCJP, "gbk": simplifiedchinese.GBK, "gb2312": simplifiedchinese.GBK,
	"gb18030": simplifiedchinese.GB18030, "big5": traditionalchinese.Big5, "euckr": korean.EUCKR,
	"ucs2": unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM), "utf16": unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM),
	"utf16le": unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM),
}

// decoder is the decoder of a column's character set, nil for UTF-8,
// ASCII, binary and the character sets not in charsets (their bytes are
// taken as they are).
func decoder(charset string) *encoding.Decoder {
	if e, ok := charsets[strings.ToLower(charset)]; ok {
		return e.NewDecoder()
	}
	return nil
}

// decodeBinlog returns a binlog row with the values of the columns in a
// character set other than UTF-8 decoded to UTF-8 strings; the row itself
// when there are none.
func (t *table) decodeBinlog(row []any) ([]any, error) {
	if !t.recode {
		return row, nil
	}
	out := make([]any, len(row))
	copy(out, row)
	for i := range t.cols {
		c := &t.cols[i]
		if c.decoder == nil || i >= len(out) {
			continue
		}
		var b []byte
		switch x := out[i].(type) {
		case string:
			b = []byte(x)
		case []byte:
			b = x
		default:
			continue
		}
		s, err := c.decoder.Bytes(b)
		if err != nil {
			return nil, err
		}
		out[i] = string(s)
	}
	return out, nil
}
