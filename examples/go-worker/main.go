// Command go-worker is a taskwire task worker written in Go: it serves the tasks
// "word_count", "conformance_echo" and "conformance_sleep" over
// WorkerService.SubscribeTaskRuns, using stubs generated from proto/.
//
//	TASKWIRE_API_URL=http://127.0.0.1:7070 go run . --limit 4
//
// SIGTERM or SIGINT stops it gracefully: it asks the server for no more work, lets the
// runs in flight finish (up to --grace), hands the rest back, and closes its stream.
// A second signal exits at once; the server then requeues whatever was held.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	taskwirev1 "taskwire.example/go-worker/gen/taskwire/v1"
)

const exampleVersion = "0.1.0"

// maxReconnectDelay caps the wait between attempts to reach a server that went away.
const maxReconnectDelay = 5 * time.Second

func main() {
	limitDefault, err := defaultLimit(os.Getenv("TASKWIRE_WORKER_LIMIT"))
	if err != nil {
		fmt.Fprintf(os.Stderr, "go-worker: %v\n", err)
		os.Exit(2)
	}
	limit := flag.Int("limit", limitDefault, "runs in flight at once; TASKWIRE_WORKER_LIMIT, when set, is the default")
	grace := flag.Duration("grace", 10*time.Second, "how long runs in flight may finish after SIGTERM/SIGINT")
	flag.Parse()
	if *limit < 1 {
		fmt.Fprintf(os.Stderr, "go-worker: --limit must be at least 1, got %d\n", *limit)
		os.Exit(2)
	}
	logger := log.New(os.Stderr, "go-worker: ", log.LstdFlags)

	apiURL := os.Getenv("TASKWIRE_API_URL")
	if apiURL == "" {
		apiURL = "http://127.0.0.1:7070"
	}
	conn, err := dial(apiURL)
	if err != nil {
		logger.Fatalf("cannot use TASKWIRE_API_URL %q: %v", apiURL, err)
	}
	defer conn.Close()

	hostname, _ := os.Hostname()
	tasks := exampleTasks()
	cfg := WorkerConfig{
		Tasks:         tasks,
		Limit:         *limit,
		WorkerID:      fmt.Sprintf("go-%s-%d-%s", hostname, os.Getpid(), randomSuffix()),
		Hostname:      hostname,
		PID:           os.Getpid(),
		APIKey:        os.Getenv("TASKWIRE_API_KEY"),
		ShutdownGrace: *grace,
		OnWelcome: func(w *taskwirev1.Welcome) {
			fmt.Printf("serving %s (limit %d) on %s, server %s\n", strings.Join(tasks.Keys(), ", "), *limit, apiURL, w.GetServerVersion())
		},
		Logf: logger.Printf,
	}

	stop := make(chan struct{})
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		sig := <-signals
		logger.Printf("%v: finishing the runs in flight (up to %v); signal again to exit now", sig, *grace)
		close(stop)
		<-signals
		os.Exit(1)
	}()

	if err := serve(stop, taskwirev1.NewWorkerServiceClient(conn), cfg, logger); err != nil {
		logger.Fatal(err)
	}
}

// serve keeps one session open, reconnecting with backoff when the server goes away,
// until stop is closed. A refused Hello (wrong version, bad limit) is final.
func serve(stop <-chan struct{}, client taskwirev1.WorkerServiceClient, cfg WorkerConfig, logger *log.Logger) error {
	delay := 100 * time.Millisecond
	for {
		connected := false
		onWelcome := cfg.OnWelcome
		sessionCfg := cfg
		sessionCfg.OnWelcome = func(w *taskwirev1.Welcome) {
			connected = true
			onWelcome(w)
		}
		err := runSession(context.Background(), stop, client, sessionCfg)
		select {
		case <-stop:
			return nil
		default:
		}
		switch code := status.Code(err); {
		case errors.Is(err, errServerDrained):
			logger.Printf("the server is shutting down; reconnecting")
		case code == codes.FailedPrecondition || code == codes.InvalidArgument || code == codes.Unauthenticated:
			return fmt.Errorf("the server refused this worker: %w", err)
		default:
			logger.Printf("stream ended: %v; reconnecting in %v", err, delay)
		}
		if connected {
			delay = 100 * time.Millisecond
		}
		select {
		case <-stop:
			return nil
		case <-time.After(delay):
		}
		delay = min(delay*2, maxReconnectDelay)
	}
}

func randomSuffix() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
