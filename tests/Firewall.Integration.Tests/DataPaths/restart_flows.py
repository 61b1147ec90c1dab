"""Long-lived flows for the restart test. server: TCP and UDP on PORT; after a client appears it sends it a numbered
tick every 0.3 s (TCP on the accepted connection, UDP to the address it heard from). client: connects / says hello
once, then only receives and prints each tick. The client never sends again, so only state kept by the firewall lets
the server's packets (from outside) through after a restart."""
import socket, sys, threading, time

mode, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
fam = socket.AF_INET6 if ":" in host else socket.AF_INET

def tcp_server():
    s = socket.socket(fam, socket.SOCK_STREAM); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, port)); s.listen(1)
    c, _ = s.accept(); n = 0
    while True:
        n += 1; c.sendall(b"tcp %d\n" % n); time.sleep(0.3)

def udp_server():
    s = socket.socket(fam, socket.SOCK_DGRAM); s.bind((host, port))
    _, peer = s.recvfrom(100); n = 0
    while True:
        n += 1; s.sendto(b"udp %d\n" % n, peer); time.sleep(0.3)

if mode == "server":
    threading.Thread(target=tcp_server, daemon=True).start()
    udp_server()
else:
    t = socket.create_connection((host, port))
    u = socket.socket(fam, socket.SOCK_DGRAM); u.connect((host, port)); u.send(b"hello")
    def read_tcp():
        f = t.makefile("rb")
        for line in f: print(line.decode().strip(), flush=True)
    threading.Thread(target=read_tcp, daemon=True).start()
    while True:
        print(u.recv(100).decode().strip(), flush=True)
