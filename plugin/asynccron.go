package plugin

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/prescale/prescale/pkg/faas"
	"github.com/prescale/prescale/pkg/fnutil"
	"github.com/prescale/prescale/plugin/api"
	"github.com/prescale/prescale/plugin/async"
	"github.com/prescale/prescale/plugin/cron"
)

// wireAsyncAndCron plugs the async queue (plugin/async) and the cron
// connector (plugin/cron) into p: the queue (embedded NATS under
// DataDir/nats, or Config.NATSURL) accepts POST /async-function/ (open, as
// on OpenFaaS) and invokes functions through the gateway's own proxy; its
// URL becomes the functions' NATS_URL; the cron connector lists the
// gateway's own API with its credentials. Both export metrics on /metrics
// and are started and closed as services.
func (p *Platform) wireAsyncAndCron() error {
	qc := p.cfg.Queue
	qc.NATSURL = p.cfg.NATSURL
	if qc.NATSURL == "" {
		qc.StoreDir = filepath.Join(p.dir, "nats")
	}
	qc.GatewayURL = p.url
	qc.Functions = platformFunctions{p}
	if qc.Logger == nil {
		qc.Logger = slog.NewLogLogger(p.log.Handler().WithAttrs([]slog.Attr{slog.String("component", "async")}), slog.LevelInfo)
	}
	q, err := async.New(qc)
	if err != nil {
		return err
	}
	if err := p.reg.Register(q); err != nil {
		_ = q.Close(context.Background())
		return fmt.Errorf("async metrics: %w", err)
	}
	p.queue = q
	p.router.PathPrefix("/async-function/").Handler(q.Handler())
	p.SetNATSURL(q.NATSURL())
	// The URL with its token reaches functions as the nats-url secret
	// (fnutil.WithNATSSecret), never in their environment: a new token
	// each start, copied into every replica when it starts.
	if err := p.store.Put(fnutil.NATSURLSecret, []byte(q.NATSURL())); err != nil {
		_ = q.Close(context.Background())
		return fmt.Errorf("secret %s: %w", fnutil.NATSURLSecret, err)
	}
	p.AddService("async queue", queueService{q})

	cc := p.cfg.Cron
	cc.GatewayURL = p.url
	cc.Username, cc.Password = p.creds.User, p.creds.Password
	if cc.Logger == nil {
		cc.Logger = slog.NewLogLogger(p.log.Handler().WithAttrs([]slog.Attr{slog.String("component", "cron")}), slog.LevelInfo)
	}
	c, err := cron.New(cc)
	if err != nil {
		return err // the queue is already a service: Close closes it
	}
	if err := p.reg.Register(c); err != nil {
		return fmt.Errorf("cron metrics: %w", err)
	}
	p.AddService("cron connector", cronService{c})
	return nil
}

// platformFunctions lets the queue ask which functions exist, with or
// without the ".openfaas-fn" suffix, and read their annotations.
type platformFunctions struct{ p *Platform }

func baseFunctionName(name string) string { return faas.BaseName(name, api.Namespace) }

func (f platformFunctions) Exists(name string) bool { return f.p.Exists(baseFunctionName(name)) }
func (f platformFunctions) Annotations(name string) map[string]string {
	return f.p.Annotations(baseFunctionName(name))
}

// The services run until Close: Platform.Start's ctx only bounds starting.
type queueService struct{ q *async.Queue }

func (s queueService) Start(ctx context.Context) error { return s.q.Start(context.WithoutCancel(ctx)) }
func (s queueService) Close(ctx context.Context) error { return s.q.Close(ctx) }

type cronService struct{ c *cron.Connector }

func (s cronService) Start(ctx context.Context) error { return s.c.Start(context.WithoutCancel(ctx)) }
func (s cronService) Close(ctx context.Context) error { return s.c.Close(ctx) }
