using System.Text;
using Firewall.Core.Conntrack;
using Firewall.Core.Packets;
using Firewall.Core.Pipeline;
using Firewall.Core.Rules;
using Firewall.Core.Rules.IptablesSave;
using FB = Firewall.Core.Tests.Packets.FrameBuilder;

namespace Firewall.Core.Tests.Pipeline;

/// <summary>
/// RELATED for real protocols through the pipeline: a DROP policy that allows NEW only to tcp/21, udp/69 and tcp/6667
/// plus ESTABLISHED,RELATED; with the helpers assigned in the raw table the announced data connections pass, without
/// them they do not.
/// </summary>
public class HelperPipelineTests
{
    private const long S = 1_000_000_000L;
    private const string Client = "198.18.10.104", Server = "198.18.20.77";

    private static string Policy(bool helpers) => $"""
        *raw
        :PREROUTING ACCEPT [0:0]
        :OUTPUT ACCEPT [0:0]
        {(helpers ? "-A PREROUTING -p tcp -m tcp --dport 21 -j CT --helper ftp\n-A PREROUTING -p udp -m udp --dport 69 -j CT --helper tftp\n-A PREROUTING -p tcp -m tcp --dport 6667 -j CT --helper irc" : "")}
        COMMIT
        *filter
        :INPUT DROP [0:0]
        :FORWARD DROP [0:0]
        :OUTPUT ACCEPT [0:0]
        -A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
        -A FORWARD -p tcp -m tcp --dport 21 -m conntrack --ctstate NEW -j ACCEPT
        -A FORWARD -p udp -m udp --dport 69 -m conntrack --ctstate NEW -j ACCEPT
        -A FORWARD -p tcp -m tcp --dport 6667 -m conntrack --ctstate NEW -j ACCEPT
        COMMIT
        """;

    private readonly ConntrackTable _table = new(new ConntrackOptions { Max = 256 });
    private PipelineWorker _w = null!;
    private long _now = 100 * S;
    private uint _cSeq = 1000, _sSeq = 50000;

    private void Init(bool helpers)
    {
        var b = new RuleSetBuilder();
        IptablesSaveParser.Load(Policy(helpers), "policy.v4", 4, b);
        var rules = b.Build() ?? throw new InvalidOperationException(string.Join("\n", b.Errors));
        _w = new PacketPipeline(_table, new RuleSetHolder(rules)).CreateWorker();
    }

    private PacketDecision Fwd(byte[] ip)
    {
        _now += 1_000_000;
        _w.Process(ip, LinkType.RawIp, _now, FilterHook.Forward, null, null, received: true, out var d);
        return d;
    }

    private static byte[] Tcp(string s, ushort sp, string d, ushort dp, byte flags, uint seq, uint ack, string payload = "") =>
        FB.Ipv4(s, d, IpProto.Tcp, FB.Tcp(sp, dp, seq, ack, flags, payload: Encoding.ASCII.GetBytes(payload)));

    /// <summary>Handshake plus banner and USER/331 so both directions have seen a complete line.</summary>
    private void ControlConnection(ushort cport, ushort sport)
    {
        Assert.Equal(Verdict.Accept, Fwd(Tcp(Client, cport, Server, sport, 0x02, _cSeq++, 0)).Verdict);
        Assert.Equal(Verdict.Accept, Fwd(Tcp(Server, sport, Client, cport, 0x12, _sSeq++, _cSeq)).Verdict);
        Assert.Equal(Verdict.Accept, Fwd(Tcp(Client, cport, Server, sport, 0x10, _cSeq, _sSeq)).Verdict);
        ServerSays(cport, sport, "220 ready\r\n");
        ClientSays(cport, sport, "USER anonymous\r\n");
        ServerSays(cport, sport, "331 password\r\n");
    }

    private PacketDecision ClientSays(ushort cport, ushort sport, string line)
    {
        var d = Fwd(Tcp(Client, cport, Server, sport, 0x18, _cSeq, _sSeq, line));
        _cSeq += (uint)line.Length;
        return d;
    }

    private PacketDecision ServerSays(ushort cport, ushort sport, string line)
    {
        var d = Fwd(Tcp(Server, sport, Client, cport, 0x18, _sSeq, _cSeq, line));
        _sSeq += (uint)line.Length;
        return d;
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void FtpActive_PortCommand_MakesServerDataConnectionRelated(bool helper)
    {
        Init(helper);
        ControlConnection(43100, 21);
        // 198,18,10,104 port 200*256+10 = 51210
        Assert.Equal(Verdict.Accept, ClientSays(43100, 21, "PORT 198,18,10,104,200,10\r\n").Verdict);
        var data = Fwd(Tcp(Server, 20, Client, 51210, 0x02, 7, 0));
        Assert.Equal(helper ? CtState.Related : CtState.New, data.Track.State);
        Assert.Equal(helper ? Verdict.Accept : Verdict.Drop, data.Verdict);
        if (helper)
        {
            Assert.Equal(CtState.Established, Fwd(Tcp(Client, 51210, Server, 20, 0x12, 900, 8)).Track.State);
            Assert.True(_table.Snapshot(_now).Single(s => s.Orig.SrcId == 20).Status.HasFlag(CtStatus.Expected));
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void FtpPassive_227Reply_MakesClientDataConnectionRelated(bool helper)
    {
        Init(helper);
        ControlConnection(43101, 21);
        ClientSays(43101, 21, "PASV\r\n");
        Assert.Equal(Verdict.Accept, ServerSays(43101, 21, "227 Entering Passive Mode (198,18,20,77,156,68).\r\n").Verdict);
        var data = Fwd(Tcp(Client, 40001, Server, 156 * 256 + 68, 0x02, 7, 0));
        Assert.Equal(helper ? Verdict.Accept : Verdict.Drop, data.Verdict);
        Assert.Equal(helper ? CtState.Related : CtState.New, data.Track.State);
    }

    [Fact]
    public void FtpBounce_PortToAnotherHost_CreatesNoExpectation()
    {
        Init(true);
        ControlConnection(43102, 21);
        Assert.Equal(Verdict.Accept, ClientSays(43102, 21, "PORT 198,18,30,1,200,10\r\n").Verdict);
        Assert.Equal(0, _table.Expectations.Count);
    }

    [Fact]
    public void FtpPartialCommand_IsDroppedByTheHelper()
    {
        Init(true);
        ControlConnection(43103, 21);
        Assert.Equal(Verdict.Drop, ClientSays(43103, 21, "PORT 198,18,10,104\r\n").Verdict);
        Assert.Equal(0, _table.Expectations.Count);
    }

    [Fact]
    public void FtpExpectations_AreListedAndGoWithTheMaster()
    {
        Init(true);
        ControlConnection(43104, 21);
        ClientSays(43104, 21, "PORT 198,18,10,104,200,10\r\n");
        var exp = Assert.Single(_table.SnapshotExpectations(_now));
        Assert.Equal(51210, exp.Tuple.DstId);
        _table.Delete(_now, s => s.Orig.DstId == 21);
        Assert.Empty(_table.SnapshotExpectations(_now));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Tftp_ReadRequest_MakesServerReplyFromAnyPortRelated(bool helper)
    {
        Init(helper);
        var rrq = FB.Ipv4(Client, Server, IpProto.Udp, FB.Udp(40000, 69, [0, 1, .. "file.txt"u8, 0, .. "octet"u8, 0]));
        Assert.Equal(Verdict.Accept, Fwd(rrq).Verdict);
        var data = Fwd(FB.Ipv4(Server, Client, IpProto.Udp, FB.Udp(33333, 40000, [0, 3, 0, 1, 1, 2, 3])));
        Assert.Equal(helper ? CtState.Related : CtState.New, data.Track.State);
        Assert.Equal(helper ? Verdict.Accept : Verdict.Drop, data.Verdict);
        if (helper)
            Assert.Equal(CtState.Established, Fwd(FB.Ipv4(Client, Server, IpProto.Udp, FB.Udp(40000, 33333, [0, 4, 0, 1]))).Track.State);
    }

    [Fact]
    public void IrcDccSend_MakesIncomingConnectionFromAnyHostRelated()
    {
        Init(true);
        ControlConnection(43105, 6667);
        uint ip = (198u << 24) | (18u << 16) | (10u << 8) | 104u;
        Assert.Equal(Verdict.Accept, ClientSays(43105, 6667, $"PRIVMSG bob :\u0001DCC SEND file.bin {ip} 5000 1234\u0001\r\n").Verdict);
        var incoming = Fwd(Tcp("198.18.40.5", 44444, Client, 5000, 0x02, 1, 0));
        Assert.Equal(CtState.Related, incoming.Track.State);
        Assert.Equal(Verdict.Accept, incoming.Verdict);
    }

    [Fact]
    public void FtpEprtIpv6_MakesDataConnectionRelated()
    {
        var b = new RuleSetBuilder();
        IptablesSaveParser.Load(Policy(true).Replace("-p udp -m udp --dport 69 -j CT --helper tftp\n", "").Replace("-A PREROUTING -p tcp -m tcp --dport 6667 -j CT --helper irc", ""), "policy.v6", 6, b);
        var rules = b.Build() ?? throw new InvalidOperationException(string.Join("\n", b.Errors));
        _w = new PacketPipeline(_table, new RuleSetHolder(rules)).CreateWorker();
        const string c6 = "2001:db8:10::104", s6 = "2001:db8:20::77";
        byte[] T(string s, ushort sp, string d, ushort dp, byte f, uint seq, uint ack, string pl = "") =>
            FB.Ipv6(s, d, IpProto.Tcp, FB.Tcp(sp, dp, seq, ack, f, payload: Encoding.ASCII.GetBytes(pl)));
        uint cs = 1000, ss = 9000;
        Fwd(T(c6, 43200, s6, 21, 0x02, cs++, 0)); Fwd(T(s6, 21, c6, 43200, 0x12, ss++, cs)); Fwd(T(c6, 43200, s6, 21, 0x10, cs, ss));
        void Srv(string l) { Fwd(T(s6, 21, c6, 43200, 0x18, ss, cs, l)); ss += (uint)l.Length; }
        PacketDecision Cli(string l) { var d = Fwd(T(c6, 43200, s6, 21, 0x18, cs, ss, l)); cs += (uint)l.Length; return d; }
        Srv("220 ready\r\n"); Cli("USER anonymous\r\n"); Srv("331 ok\r\n");
        Assert.Equal(Verdict.Accept, Cli($"EPRT |2|{c6}|51300|\r\n").Verdict);
        var data = Fwd(T(s6, 20, c6, 51300, 0x02, 5, 0));
        Assert.Equal(CtState.Related, data.Track.State);
        Assert.Equal(Verdict.Accept, data.Verdict);
    }
}
