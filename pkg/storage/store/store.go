// Package store opens the storage.Store a storage sink's properties name:
// S3 (s3store), HDFS (hdfsstore) or the local filesystem (localstore). The
// in-memory memstore is for tests and is never chosen from properties.
package store

import (
	"context"
	"net/url"
	"strings"

	"github.com/sluicehq/sluice/pkg/connect/config"
	"github.com/sluicehq/sluice/pkg/storage"
	"github.com/sluicehq/sluice/pkg/storage/store/hdfsstore"
	"github.com/sluicehq/sluice/pkg/storage/store/localstore"
	"github.com/sluicehq/sluice/pkg/storage/store/s3store"
)

// URLKey is Confluent's StorageCommonConfig store.url.
const URLKey = s3store.StoreURLKey

// ConfigDef returns store.url, the key every store shares. A connector
// merges it with s3store.ConfigDef (S3 sink) or hdfsstore.ConfigDef (HDFS
// sink).
func ConfigDef() *config.Def {
	return config.NewDef().Define(config.Key{Name: URLKey, Type: config.String, Default: nil,
		Importance: config.High, Group: "Storage", OrderInGroup: 1, Width: config.WidthNone,
		DisplayName: "Store URL",
		Doc: "Store's connection URL, if applicable: the endpoint of an S3-compatible server " +
			"(http:// or https://; empty for AWS S3), hdfs://namenode:8020 for HDFS, or " +
			"file:///path for local files (dev mode)."})
}

// Open returns the store props name, choosing by, in order:
//
//   - store.url's scheme: file:// (localstore), hdfs:// (hdfsstore),
//     http:// or https:// (s3store, an S3-compatible endpoint);
//   - hdfs.url (hdfsstore, Confluent's older HDFS key);
//   - s3.bucket.name (s3store on AWS).
//
// Configuration errors are a *config.ValidationError naming the keys.
func Open(ctx context.Context, props map[string]string) (storage.Store, error) {
	storeURL := strings.TrimSpace(props[URLKey])
	if storeURL != "" {
		u, err := url.Parse(storeURL)
		if err != nil {
			return nil, invalid(URLKey, storeURL, err.Error())
		}
		switch u.Scheme {
		case "file":
			dir, err := localstore.PathFromURL(storeURL)
			if err != nil {
				return nil, invalid(URLKey, storeURL, err.Error())
			}
			return localstore.New(dir)
		case "hdfs":
			return openHDFS(ctx, URLKey, storeURL)
		case "http", "https":
			return openS3(ctx, props)
		}
		return nil, invalid(URLKey, storeURL,
			"the scheme must be file:// (local files), hdfs:// (HDFS), or http:// or https:// (an S3 endpoint)")
	}
	if h := strings.TrimSpace(props[hdfsstore.URLKey]); h != "" {
		return openHDFS(ctx, hdfsstore.URLKey, h)
	}
	if strings.TrimSpace(props[s3store.BucketKey]) != "" {
		return openS3(ctx, props)
	}
	return nil, &config.ValidationError{Problems: []config.Problem{{
		Key: URLKey,
		Message: "No store configured: set " + s3store.BucketKey + " (S3), " + URLKey +
			"=hdfs://namenode:8020 or " + hdfsstore.URLKey + " (HDFS), or " + URLKey + "=file:///path (local files)",
	}}}
}

func openS3(ctx context.Context, props map[string]string) (storage.Store, error) {
	s, err := s3store.Open(ctx, props)
	if err != nil {
		return nil, err
	}
	return s, nil
}

func openHDFS(ctx context.Context, key, rawURL string) (storage.Store, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme != "hdfs" || u.Host == "" {
		return nil, invalid(key, rawURL, "must be hdfs://namenode:port[/root]")
	}
	s, err := hdfsstore.Dial(ctx, rawURL)
	if err != nil {
		return nil, err
	}
	return s, nil
}

func invalid(key, value, reason string) error {
	return &config.ValidationError{Problems: []config.Problem{{
		Key: key, Message: config.InvalidValue(key, value, reason).Error(),
	}}}
}
