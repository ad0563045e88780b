package kafka

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/IBM/sarama"
)

// ElectionOptions configure a Campaign.
type ElectionOptions struct {
	// Group is the consumer group the candidates join (Connect: group.id).
	Group string
	// Topic is a one-partition topic, created if missing: the member the
	// group assigns its partition 0 to is the leader.
	Topic string
	// URL is how other members reach this one (its REST URL); it travels
	// in the member's join metadata.
	URL string
	// SessionTimeout is how long a silent member keeps its membership, so
	// how long a crashed leader stays leader (default 6s, the brokers'
	// default group.min.session.timeout.ms). Heartbeat defaults to a third
	// of it, as Kafka's consumer.
	SessionTimeout, Heartbeat time.Duration
	Logger                    *slog.Logger

	// beforeSetup, when set (by tests), runs at the start of each group
	// session's Setup: the broker has assigned the partition, this member
	// has not taken it yet.
	beforeSetup func()
}

// Election is one member's candidacy in a leader election run by Kafka's
// group protocol: every candidate joins one consumer group subscribed to a
// one-partition topic, and the broker's group coordinator assigns that
// partition to exactly one live member, the leader. A leader that leaves
// (Close) is replaced at once; one that crashes, after the session timeout.
// An Election is safe for concurrent use.
type Election struct {
	opts    ElectionOptions
	sc      sarama.Client
	admin   sarama.ClusterAdmin
	cg      sarama.ConsumerGroup
	cancel  context.CancelFunc
	done    chan struct{}
	changes chan bool

	mu       sync.Mutex
	joined   bool  // has taken part in at least one generation
	gen      int32 // the group generation last joined
	leading  bool
	cachedAt time.Time
	cached   string
	// confirmed is until when this member certainly leads (see
	// ConfirmedUntil); zero while it does not lead or has not confirmed.
	confirmed time.Time
}

// Campaign joins the election and keeps taking part until Close.
func (c *Client) Campaign(ctx context.Context, o ElectionOptions) (*Election, error) {
	if o.Group == "" || o.Topic == "" {
		return nil, errors.New("kafka: an election needs a group and a topic")
	}
	if o.SessionTimeout <= 0 {
		o.SessionTimeout = 6 * time.Second
	}
	if o.Heartbeat <= 0 {
		o.Heartbeat = o.SessionTimeout / 3
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if err := c.EnsureTopic(ctx, TopicSpec{Name: o.Topic, Partitions: 1}); err != nil {
		return nil, err
	}
	parts, err := c.Partitions(ctx, o.Topic)
	if err != nil {
		return nil, err
	}
	if len(parts) != 1 {
		return nil, fmt.Errorf("kafka: election topic %s has %d partitions; it needs exactly 1", o.Topic, len(parts))
	}
	conf := c.cfg.saramaConfig()
	conf.Metadata.Full = false
	meta, err := json.Marshal(memberMeta{URL: o.URL, Since: time.Now().UnixNano()})
	if err != nil {
		return nil, err
	}
	conf.Consumer.Group.Member.UserData = meta
	conf.Consumer.Group.Session.Timeout = o.SessionTimeout
	conf.Consumer.Group.Heartbeat.Interval = o.Heartbeat
	conf.Consumer.Group.Rebalance.Timeout = 2 * o.SessionTimeout
	conf.Consumer.Group.Rebalance.GroupStrategies = []sarama.BalanceStrategy{oldestWins{}}
	conf.Consumer.Offsets.AutoCommit.Enable = false
	conf.Consumer.Return.Errors = false
	sc, err := newSaramaClient(ctx, c.cfg, conf)
	if err != nil {
		return nil, err
	}
	cg, err := sarama.NewConsumerGroupFromClient(o.Group, sc)
	if err != nil {
		sc.Close()
		return nil, fmt.Errorf("kafka: joining group %s: %w", o.Group, err)
	}
	run, cancel := context.WithCancel(context.Background())
	e := &Election{opts: o, sc: sc, admin: c.admin, cg: cg, cancel: cancel, done: make(chan struct{}), changes: make(chan bool, 1)}
	go e.loop(run)
	return e, nil
}

// loop takes part in every generation of the group until Close.
func (e *Election) loop(ctx context.Context) {
	defer close(e.done)
	h := electionHandler{e: e}
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := e.cg.Consume(ctx, []string{e.opts.Topic}, h)
		e.set(false)
		if err == nil || ctx.Err() != nil {
			backoff = 100 * time.Millisecond
			continue
		}
		e.opts.Logger.Warn("election: group session ended with an error; rejoining", "group", e.opts.Group, "error", err, "backoff", backoff)
		select {
		case <-ctx.Done():
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

type electionHandler struct{ e *Election }

func (h electionHandler) Setup(s sarama.ConsumerGroupSession) error {
	if h.e.opts.beforeSetup != nil {
		h.e.opts.beforeSetup()
	}
	h.e.mu.Lock()
	h.e.joined = true
	h.e.gen = s.GenerationID()
	h.e.mu.Unlock()
	leading := slices.Contains(s.Claims()[h.e.opts.Topic], 0)
	if leading {
		// Confirm before leading, so that a new leader can issue leases
		// at once; then keep confirming for the session's lifetime.
		h.e.confirm(s)
		go h.e.keepConfirming(s)
	}
	h.e.set(leading)
	return nil
}

// confirmGuard is the part of the session timeout a confirmation does not
// count on: the broker's and this process's clocks may run at slightly
// different rates, and a goroutine may be descheduled between a check and
// what it guards.
func (e *Election) confirmGuard() time.Duration { return e.opts.SessionTimeout / 4 }

// confirm sends one heartbeat of s's member and generation to the group
// coordinator; an answer without error proves that, when it was sent, no
// other member could have been elected (the group had not moved past s's
// generation), and none can be before the broker expires this member's
// session, at least a session timeout after the broker received it. So
// this member certainly leads until the send time plus the session timeout
// (less confirmGuard). The heartbeat also keeps the session alive, as the
// group session's own heartbeats do.
func (e *Election) confirm(s sarama.ConsumerGroupSession) {
	sent := time.Now()
	broker, err := e.sc.Coordinator(e.opts.Group)
	if err != nil {
		return
	}
	req := &sarama.HeartbeatRequest{Version: 4, GroupId: e.opts.Group, MemberId: s.MemberID(), GenerationId: s.GenerationID()}
	resp, err := broker.Heartbeat(req)
	if err != nil || !errors.Is(resp.Err, sarama.ErrNoError) {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.gen == s.GenerationID() && s.Context().Err() == nil {
		if until := sent.Add(e.opts.SessionTimeout - e.confirmGuard()); until.After(e.confirmed) {
			e.confirmed = until
		}
	}
}

// keepConfirming confirms s's leadership every heartbeat interval until
// the session ends.
func (e *Election) keepConfirming(s sarama.ConsumerGroupSession) {
	t := time.NewTicker(e.opts.Heartbeat)
	defer t.Stop()
	for {
		select {
		case <-s.Context().Done():
			return
		case <-t.C:
			e.confirm(s)
		}
	}
}

// ConfirmedUntil returns until when this member certainly leads: no other
// member can have been elected before then (zero while it does not lead,
// or could not confirm it). A leader must act as leader (issue a lease)
// only before this time: a leader whose group coordinator does not answer
// (a broker outage, a network partition) may be replaced once the broker
// expires its session, before its own group session notices.
func (e *Election) ConfirmedUntil() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.leading {
		return time.Time{}
	}
	return e.confirmed
}

// Confirmed is ConfirmedUntil together with the group generation that
// confirmation belongs to, read at once. A leader that records something
// (a lease) in one generation and acts on it later must find the same
// generation confirmed then: a confirmation of a later generation says
// nothing about what other members did between the two (this member may
// have been replaced and elected again meanwhile).
func (e *Election) Confirmed() (until time.Time, generation int32) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.leading {
		return time.Time{}, e.gen
	}
	return e.confirmed, e.gen
}

// Generation is the group generation this member last joined (0 before
// it joins): Connect's workers write it into their statuses, and since a
// Sluice coordinator elects its leader in the same group, its generations
// follow on from Kafka Connect's, and Connect's from its.
func (e *Election) Generation() int32 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.gen
}

// Joined reports whether this member has joined the group at least once.
func (e *Election) Joined() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.joined
}

func (h electionHandler) Cleanup(sarama.ConsumerGroupSession) error {
	h.e.mu.Lock()
	h.e.confirmed = time.Time{}
	h.e.mu.Unlock()
	h.e.set(false)
	return nil
}

// ConsumeClaim holds the claim for the session's lifetime; the topic
// carries no records that matter.
func (h electionHandler) ConsumeClaim(s sarama.ConsumerGroupSession, c sarama.ConsumerGroupClaim) error {
	for {
		select {
		case <-s.Context().Done():
			return nil
		case _, ok := <-c.Messages():
			if !ok {
				return nil
			}
		}
	}
}

func (e *Election) set(leading bool) {
	e.mu.Lock()
	changed := e.leading != leading
	e.leading = leading
	if !leading {
		e.confirmed = time.Time{}
	}
	e.cachedAt = time.Time{}
	e.mu.Unlock()
	if !changed {
		return
	}
	e.opts.Logger.Info("election: leadership changed", "group", e.opts.Group, "leader", leading, "url", e.opts.URL)
	for { // keep only the latest state in the channel
		select {
		case e.changes <- leading:
			return
		default:
			select {
			case <-e.changes:
			default:
			}
		}
	}
}

// Changes delivers this member's leadership whenever it changes (true:
// became leader, false: lost it). Only the latest state is kept.
func (e *Election) Changes() <-chan bool { return e.changes }

// Leading reports whether this member leads now.
func (e *Election) Leading() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.leading
}

// Leader returns the current leader's URL, as the group coordinator knows
// it, and whether that is this member. Whether this member leads has one
// source of truth, its group session (Leading): self is true exactly when
// Leading is, and then url is this member's own. A follower gets the
// described leader's URL, cached for a second; it gets "" when no member
// holds the partition (during a rebalance) and when the described leader is
// this member itself, whose session has not taken the partition yet (or
// has just given it up): its own URL is never another leader's. The admin
// client's request timeout bounds it (its DescribeGroups takes no context).
func (e *Election) Leader() (url string, self bool, err error) {
	e.mu.Lock()
	if e.leading {
		e.mu.Unlock()
		return e.opts.URL, true, nil
	}
	if time.Since(e.cachedAt) < time.Second {
		url := e.cached
		e.mu.Unlock()
		return e.other(url), false, nil
	}
	e.mu.Unlock()
	url, err = e.describeLeader()
	if err != nil {
		return "", false, err
	}
	e.mu.Lock()
	e.cached, e.cachedAt = url, time.Now()
	e.mu.Unlock()
	return e.other(url), false, nil
}

// other returns the URL of a leader described while this member does not
// lead, or "" when that is this member's own URL.
func (e *Election) other(url string) string {
	if url == e.opts.URL {
		return ""
	}
	return url
}

// describeLeader asks the group coordinator which member holds the
// election's partition and returns its URL ("" if none).
func (e *Election) describeLeader() (string, error) {
	members, err := e.Members()
	if err != nil {
		return "", err
	}
	for _, m := range members {
		if m.Leader {
			return m.URL, nil
		}
	}
	return "", nil
}

// ElectionMember is one candidate of an election, as the group
// coordinator describes it.
type ElectionMember struct {
	// ID is the member id the broker gave it; ClientID and Host are its
	// client's id and address as the broker saw them.
	ID, ClientID, Host string
	// URL is the candidate's REST URL and Since when its candidacy began,
	// from its join metadata; both are unknown (zero) while the group
	// rebalances, when the broker describes members without metadata.
	URL   string
	Since time.Time
	// Leader is whether the group assigned it the election's partition.
	Leader bool
}

// Members describes every current member of the election's group (one
// DescribeGroups request), oldest candidacy first, then by member id; the
// admin client's request timeout bounds it.
func (e *Election) Members() ([]ElectionMember, error) {
	groups, err := e.admin.DescribeConsumerGroups([]string{e.opts.Group})
	if err != nil {
		return nil, fmt.Errorf("kafka: describing group %s: %w", e.opts.Group, err)
	}
	var out []ElectionMember
	for _, g := range groups {
		for id, m := range g.Members {
			em := ElectionMember{ID: id, ClientID: m.ClientId, Host: m.ClientHost}
			if a, err := m.GetMemberAssignment(); err == nil && a != nil {
				em.Leader = slices.Contains(a.Topics[e.opts.Topic], 0)
			}
			if md, err := m.GetMemberMetadata(); err == nil && md != nil {
				var mm memberMeta
				if json.Unmarshal(md.UserData, &mm) == nil {
					em.URL = mm.URL
					if mm.Since != 0 {
						em.Since = time.Unix(0, mm.Since)
					}
				}
			}
			out = append(out, em)
		}
	}
	slices.SortFunc(out, func(a, b ElectionMember) int {
		if c := a.Since.Compare(b.Since); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

// Close leaves the group, so that another member takes over at once.
func (e *Election) Close() error {
	e.cancel()
	<-e.done
	err := e.cg.Close()
	e.set(false)
	return errors.Join(err, e.sc.Close())
}

// memberMeta is what each candidate tells the group about itself.
type memberMeta struct {
	URL   string `json:"url"`
	Since int64  `json:"since"` // when the candidacy began, Unix ns
}

// oldestWins assigns the election topic's partition to the member that has
// been a candidate longest (ties broken by member id). A coordinator that
// starts never takes leadership from a running one; when the leader leaves
// or dies, the next oldest takes over.
type oldestWins struct{}

func (oldestWins) Name() string { return "sluice-oldest" }

func (oldestWins) Plan(members map[string]sarama.ConsumerGroupMemberMetadata, topics map[string][]int32) (sarama.BalanceStrategyPlan, error) {
	plan := sarama.BalanceStrategyPlan{}
	ids := slices.Sorted(maps.Keys(members))
	for topic, parts := range topics {
		var best string
		var bestSince int64
		for _, id := range ids {
			m := members[id]
			if !slices.Contains(m.Topics, topic) {
				continue
			}
			var mm memberMeta
			_ = json.Unmarshal(m.UserData, &mm)
			if best == "" || mm.Since < bestSince {
				best, bestSince = id, mm.Since
			}
		}
		if best != "" {
			plan.Add(best, topic, parts...)
		}
	}
	return plan, nil
}

func (oldestWins) AssignmentData(string, map[string][]int32, int32) ([]byte, error) { return nil, nil }
