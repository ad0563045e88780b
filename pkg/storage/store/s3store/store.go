// Package s3store stores objects in Amazon S3 or an S3-compatible server,
// as Confluent's S3 sink connector does (S3Storage and S3OutputStream), with
// the same properties (see Config).
//
// An object is buffered in memory up to s3.part.size. An object that fits
// in one part is written with a single PutObject on Commit; a larger one
// with a multipart upload (CreateMultipartUpload when the first part is
// full, UploadPart for each full part, CompleteMultipartUpload on Commit),
// which AbortMultipartUpload discards on Abort or failure. Either way
// nothing is visible under the key before Commit, and a committed object
// replaces an earlier one whole.
//
// Every request is retried by the SDK's standard retryer, s3.part.retries
// times, waiting s3.retry.backoff.ms and doubling, when the failure is
// transient; IsRetriable tells callers the same about the error they get.
//
// Tested against versitygw, a real S3 server (internal/s3test), and
// gofakes3 in-process; not tested here against AWS itself (SSE-KMS, SSE-C
// and canned ACLs are sent as headers but not verified by a server).
package s3store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/sluicehq/sluice/pkg/storage"
)

var (
	_ storage.Store        = (*Store)(nil)
	_ storage.ObjectWriter = (*Writer)(nil)
)

// Store is a bucket. It is safe for concurrent use.
type Store struct {
	client *s3.Client
	cfg    Settings
	h      headers
}

// headers are the ACL and encryption headers of the Store's requests,
// derived once from its Settings.
type headers struct {
	acl      types.ObjectCannedACL
	sse      types.ServerSideEncryption // SSE-S3 or SSE-KMS
	kmsKeyID *string
	// SSE-C: every request that writes or reads an object carries the key.
	customerAlgorithm, customerKey, customerKeyMD5 *string
}

func newHeaders(c Settings) headers {
	h := headers{acl: types.ObjectCannedACL(c.CannedACL)}
	switch {
	case c.SSEAlgorithm == SSEAES256 && c.SSECustomerKey != "":
		h.customerAlgorithm = aws.String(SSEAES256)
		h.customerKey = aws.String(c.SSECustomerKey)
		h.customerKeyMD5 = aws.String(customerKeyMD5(c.SSECustomerKey))
	case c.SSEAlgorithm != "":
		h.sse = types.ServerSideEncryption(c.SSEAlgorithm)
		if c.SSEAlgorithm == SSEKMS && c.SSEKMSKeyID != "" {
			h.kmsKeyID = aws.String(c.SSEKMSKeyID)
		}
	}
	return h
}

// New returns a Store for cfg.Bucket. It makes no request: a missing bucket
// or bad credentials show up on the first write. Zero fields of cfg take
// their defaults.
func New(ctx context.Context, cfg Settings) (*Store, error) {
	cfg = cfg.withDefaults()
	if err := cfg.check(); err != nil {
		return nil, err
	}
	opts := []func(*awsconfig.LoadOptions) error{
		awsconfig.WithRegion(cfg.Region),
		awsconfig.WithRetryer(func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = cfg.PartRetries + 1
				o.Backoff = backoff{base: cfg.RetryBackoff}
				// Retry quotas would turn a short outage into failures
				// that are not the server's answer; the attempts are
				// bounded already.
				o.RateLimiter = ratelimit.None
			})
		}),
	}
	if cfg.AccessKeyID != "" {
		opts = append(opts, awsconfig.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(cfg.AccessKeyID, cfg.SecretAccessKey, "")))
	}
	if cfg.Endpoint != "" {
		// S3-compatible servers do not all accept the trailing checksums
		// the SDK sends to AWS by default.
		opts = append(opts,
			awsconfig.WithRequestChecksumCalculation(aws.RequestChecksumCalculationWhenRequired),
			awsconfig.WithResponseChecksumValidation(aws.ResponseChecksumValidationWhenRequired))
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("s3store: loading AWS configuration: %w", err)
	}
	client := s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		o.UsePathStyle = cfg.PathStyle
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
	})
	return &Store{client: client, cfg: cfg, h: newHeaders(cfg)}, nil
}

// Open parses props (see ParseSettings) and returns New's Store.
func Open(ctx context.Context, props map[string]string) (*Store, error) {
	cfg, err := ParseSettings(props)
	if err != nil {
		return nil, err
	}
	return New(ctx, cfg)
}

// Bucket returns the bucket's name.
func (s *Store) Bucket() string { return s.cfg.Bucket }

// PartSize returns the part size, which is also the most memory an open
// Writer holds.
func (s *Store) PartSize() int { return s.cfg.PartSize }

// Create starts an object. The returned Writer's Write calls use ctx for
// the parts they upload; Commit and Abort take their own context.
func (s *Store) Create(ctx context.Context, key string) (storage.ObjectWriter, error) {
	if key == "" || len(key) > 1024 {
		return nil, fmt.Errorf("s3store: invalid object key %q: must be 1 to 1024 bytes", key)
	}
	return &Writer{s: s, ctx: ctx, key: key}, nil
}

// Open returns a committed object's content. A missing key is an error
// matching ErrNoSuchKey and fs.ErrNotExist.
func (s *Store) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	in := &s3.GetObjectInput{Bucket: aws.String(s.cfg.Bucket), Key: aws.String(key),
		SSECustomerAlgorithm: s.h.customerAlgorithm, SSECustomerKey: s.h.customerKey, SSECustomerKeyMD5: s.h.customerKeyMD5}
	out, err := s.client.GetObject(ctx, in)
	if err != nil {
		return nil, wrap("GetObject", s.cfg.Bucket, key, 0, err)
	}
	return out.Body, nil
}

// List returns the keys under prefix, sorted.
func (s *Store) List(ctx context.Context, prefix string) ([]string, error) {
	var keys []string
	p := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{
		Bucket: aws.String(s.cfg.Bucket),
		Prefix: aws.String(prefix),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, wrap("ListObjectsV2", s.cfg.Bucket, prefix, 0, err)
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	slices.Sort(keys)
	return keys, nil
}

// Close does nothing: the SDK client holds no resources that need closing.
func (s *Store) Close() error { return nil }

// Writer is an S3 object being written. It is not safe for concurrent use.
// It holds in memory the part being written: the object's bytes up to the
// Store's part size, in 1 MiB chunks shared by all writers.
type Writer struct {
	s   *Store
	ctx context.Context
	key string

	buf      partBuffer
	uploadID string // "" until the first part is uploaded
	parts    []types.CompletedPart
	err      error // sticky: the first failure, after which the upload is aborted
	closed   bool
}

// Write buffers p, uploading a part each time the buffer is full and more
// bytes follow, so an object of exactly one part size is still a single
// PutObject.
func (w *Writer) Write(p []byte) (int, error) {
	if w.closed {
		return 0, ErrClosed
	}
	if w.err != nil {
		return 0, w.err
	}
	n := 0
	for len(p) > 0 {
		if w.buf.Len() == w.s.cfg.PartSize {
			if err := w.uploadPart(w.ctx); err != nil {
				w.fail(err)
				return n, err
			}
		}
		c := w.buf.write(p, w.s.cfg.PartSize)
		p = p[c:]
		n += c
	}
	return n, nil
}

// Commit makes the object visible: PutObject for a single part,
// UploadPart of the last part and CompleteMultipartUpload otherwise. After
// an error the multipart upload, if any, is aborted and nothing is
// visible.
func (w *Writer) Commit(ctx context.Context) error {
	if w.closed {
		return ErrClosed
	}
	defer w.release()
	if w.err != nil {
		return w.err
	}
	if w.uploadID == "" {
		h := &w.s.h
		in := &s3.PutObjectInput{
			Bucket:               aws.String(w.s.cfg.Bucket),
			Key:                  aws.String(w.key),
			Body:                 w.buf.reader(),
			ContentLength:        aws.Int64(int64(w.buf.Len())),
			ACL:                  h.acl,
			ServerSideEncryption: h.sse,
			SSEKMSKeyId:          h.kmsKeyID,
			SSECustomerAlgorithm: h.customerAlgorithm,
			SSECustomerKey:       h.customerKey,
			SSECustomerKeyMD5:    h.customerKeyMD5,
		}
		_, err := w.s.client.PutObject(ctx, in)
		return wrap("PutObject", w.s.cfg.Bucket, w.key, 0, err)
	}
	if w.buf.Len() > 0 {
		if err := w.uploadPart(ctx); err != nil {
			w.fail(err)
			return err
		}
	}
	_, err := w.s.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket:          aws.String(w.s.cfg.Bucket),
		Key:             aws.String(w.key),
		UploadId:        aws.String(w.uploadID),
		MultipartUpload: &types.CompletedMultipartUpload{Parts: w.parts},
	})
	if err != nil {
		err = wrap("CompleteMultipartUpload", w.s.cfg.Bucket, w.key, 0, err)
		w.fail(err)
		return err
	}
	return nil
}

// Abort discards the object and its multipart upload. It does nothing
// after Commit or Abort.
func (w *Writer) Abort(ctx context.Context) error {
	if w.closed {
		return nil
	}
	defer w.release()
	if w.err != nil {
		// fail already tried to abort the upload.
		return nil
	}
	return w.abortUpload(ctx)
}

// uploadPart uploads the buffer as the next part, starting the multipart
// upload first if needed, and empties the buffer.
func (w *Writer) uploadPart(ctx context.Context) error {
	s := w.s
	if len(w.parts) == MaxParts {
		return fmt.Errorf("s3store: s3://%s/%s: object larger than %d parts of %d bytes; raise %s",
			s.cfg.Bucket, w.key, MaxParts, s.cfg.PartSize, PartSizeConfig)
	}
	if w.uploadID == "" {
		in := &s3.CreateMultipartUploadInput{Bucket: aws.String(s.cfg.Bucket), Key: aws.String(w.key),
			ACL: s.h.acl, ServerSideEncryption: s.h.sse, SSEKMSKeyId: s.h.kmsKeyID,
			SSECustomerAlgorithm: s.h.customerAlgorithm, SSECustomerKey: s.h.customerKey, SSECustomerKeyMD5: s.h.customerKeyMD5}
		out, err := s.client.CreateMultipartUpload(ctx, in)
		if err != nil {
			return wrap("CreateMultipartUpload", s.cfg.Bucket, w.key, 0, err)
		}
		w.uploadID = aws.ToString(out.UploadId)
	}
	num := int32(len(w.parts) + 1)
	in := &s3.UploadPartInput{
		Bucket:        aws.String(s.cfg.Bucket),
		Key:           aws.String(w.key),
		UploadId:      aws.String(w.uploadID),
		PartNumber:    aws.Int32(num),
		Body:          w.buf.reader(),
		ContentLength: aws.Int64(int64(w.buf.Len())),

		SSECustomerAlgorithm: s.h.customerAlgorithm,
		SSECustomerKey:       s.h.customerKey,
		SSECustomerKeyMD5:    s.h.customerKeyMD5,
	}
	out, err := s.client.UploadPart(ctx, in)
	if err != nil {
		return wrap("UploadPart", s.cfg.Bucket, w.key, int(num), err)
	}
	w.parts = append(w.parts, types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(num)})
	w.buf.reset()
	return nil
}

// fail records err and aborts the multipart upload so that it does not
// linger (and cost) in the bucket. The abort is best effort: when S3 cannot
// be reached, a lifecycle rule (AbortIncompleteMultipartUpload) is what
// cleans up.
func (w *Writer) fail(err error) {
	w.err = err
	// The buffered bytes are useless now; give the memory back at once.
	w.buf.release()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(w.ctx), 30*time.Second)
	defer cancel()
	_ = w.abortUpload(ctx)
}

func (w *Writer) abortUpload(ctx context.Context) error {
	if w.uploadID == "" {
		return nil
	}
	_, err := w.s.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{
		Bucket:   aws.String(w.s.cfg.Bucket),
		Key:      aws.String(w.key),
		UploadId: aws.String(w.uploadID),
	})
	if err != nil && !errors.Is(wrap("", "", "", 0, err), ErrNoSuchUpload) {
		return wrap("AbortMultipartUpload", w.s.cfg.Bucket, w.key, 0, err)
	}
	w.uploadID = ""
	return nil
}

// release returns the buffer to the pool and closes the writer.
func (w *Writer) release() {
	w.closed = true
	w.buf.release()
	w.parts = nil
}

// backoff waits base before the first retry and doubles after, with
// jitter in the upper half so that writers do not retry in step, capped at
// maxRetryBackoff (Confluent's s3.retry.backoff.ms behaviour).
type backoff struct{ base time.Duration }

func (b backoff) BackoffDelay(attempt int, _ error) (time.Duration, error) {
	if b.base <= 0 {
		return 0, nil
	}
	d := b.base
	for i := 1; i < attempt && d < maxRetryBackoff; i++ {
		d *= 2
	}
	d = min(d, maxRetryBackoff)
	return d/2 + rand.N(d/2+1), nil
}
