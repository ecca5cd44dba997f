package agent

import "sync"

// eventBus fans events out to subscribers without ever blocking the agent:
// a subscriber whose queue is full loses the event and the loss is counted.
// Events raised during boot, before any surface could subscribe, are kept
// (at most backlogMax) and replayed to each subscriber until Run starts.
type eventBus struct {
	buf int

	mu      sync.Mutex
	seq     uint64
	subs    map[int]chan Event
	nextID  int
	backlog []Event
	sealed  bool
	dropped int
	closed  bool
}

const backlogMax = 64

func (b *eventBus) subscribe() (<-chan Event, func()) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.subs == nil {
		b.subs = map[int]chan Event{}
	}
	ch := make(chan Event, b.buf+backlogMax)
	if b.closed {
		close(ch)
		return ch, func() {}
	}
	if !b.sealed {
		for _, e := range b.backlog {
			ch <- e
		}
	}
	id := b.nextID
	b.nextID++
	b.subs[id] = ch
	return ch, func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		if c, ok := b.subs[id]; ok {
			delete(b.subs, id)
			close(c)
		}
	}
}

func (b *eventBus) publish(e Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return
	}
	b.seq++
	e.Seq = b.seq
	if !b.sealed && len(b.backlog) < backlogMax {
		b.backlog = append(b.backlog, e)
	}
	for _, ch := range b.subs {
		select {
		case ch <- e:
		default:
			b.dropped++
		}
	}
}

// seal ends the boot backlog: later subscribers see only new events.
func (b *eventBus) seal() {
	b.mu.Lock()
	b.sealed = true
	b.backlog = nil
	b.mu.Unlock()
}

func (b *eventBus) droppedCount() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.dropped
}

func (b *eventBus) close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return
	}
	b.closed = true
	for id, ch := range b.subs {
		close(ch)
		delete(b.subs, id)
	}
}
