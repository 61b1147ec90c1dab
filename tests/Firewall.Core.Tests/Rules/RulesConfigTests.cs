using System.Text;
using Firewall.Core.Conntrack;
using Firewall.Core.Packets;
using Firewall.Core.Rules;
using Firewall.Core.Rules.Config;
using Firewall.Core.Rules.IptablesSave;
using Microsoft.Extensions.Configuration;
using static Firewall.Core.Tests.Rules.RuleTestKit;

namespace Firewall.Core.Tests.Rules;

/// <summary>Firewall:Rules bound from JSON, validated with key-naming messages, compiled to the same RuleSet as iptables-save.</summary>
public class RulesConfigTests
{
    private static FirewallRulesOptions Bind(string json)
    {
        var config = new ConfigurationBuilder().AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes(json))).Build();
        var o = new FirewallRulesOptions();
        config.GetSection(FirewallRulesOptions.SectionPath).Bind(o);
        return o;
    }

    /// <summary>Binds a rules object (the inside of "Rules").</summary>
    private static FirewallRulesOptions Rules(string inner) => Bind($$"""{ "Firewall": { "Rules": {{inner}} } }""");

    private static FirewallRulesOptions InputRules(params string[] rules) =>
        Rules($$"""{ "Filter": { "Input": { "Policy": "DROP", "Rules": [ {{string.Join(",", rules)}} ] } } }""");

    private static RuleSet Compile(FirewallRulesOptions o, Dictionary<string, string>? files = null)
    {
        var rs = RulesConfigCompiler.Compile(o, p => files![p], null, out var errors);
        Assert.True(rs is not null, "did not compile: " + string.Join(" | ", errors));
        return rs!;
    }

    private static string OneError(FirewallRulesOptions o) => Assert.Single(o.Validate());

    private static string RepoFile(string relative)
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            string p = Path.Combine(d.FullName, relative);
            if (File.Exists(p)) return p;
        }
        Assert.Fail($"{relative} not found above {AppContext.BaseDirectory}");
        return "";
    }

    [Fact]
    public void Binding_ReadsEveryKind()
    {
        var o = Rules("""
            {
              "IptablesSaveFiles": [ "/etc/iptables/rules.v4", { "Path": "/etc/iptables/rules.v6", "Family": "IPv6" } ],
              "Filter": { "Input": { "Policy": "DROP", "Rules": [ { "Protocol": "tcp", "DPort": "22", "State": [ "NEW" ], "Action": "ACCEPT" } ] } },
              "Chains": { "LOGDROP": { "Rules": [ { "Action": "DROP" } ] } },
              "Raw": { "Prerouting": { "Rules": [ { "Protocol": "tcp", "DPort": "21", "Action": "CT", "Helper": "ftp" } ] } },
              "Sets": { "blocklist": [ "198.18.0.0/24", "2001:db8::/48" ] },
              "Log": { "RingSize": 64 }
            }
            """);
        Assert.Equal("/etc/iptables/rules.v4", o.IptablesSaveFiles[0].Path);
        Assert.Null(o.IptablesSaveFiles[0].Family);
        Assert.Equal("/etc/iptables/rules.v6", o.IptablesSaveFiles[1].Path);
        Assert.Equal("IPv6", o.IptablesSaveFiles[1].Family);
        Assert.Equal("DROP", o.Filter.Input.Policy);
        Assert.Equal(["NEW"], o.Filter.Input.Rules[0].State!);
        Assert.Equal("DROP", o.Chains["LOGDROP"].Rules[0].Action);
        Assert.Equal("ftp", o.Raw.Prerouting.Rules[0].Helper);
        Assert.Equal(2, o.Sets["blocklist"].Count);
        Assert.Equal(64, o.Log.RingSize);
    }

    [Fact]
    public void StructuredRule_CompilesToIptablesEquivalent()
    {
        var rs = Compile(InputRules("""{ "Protocol": "tcp", "DPort": "22", "State": [ "NEW" ], "Action": "ACCEPT" }"""));
        Assert.Equal("-A INPUT -p tcp -m tcp --dport 22 -m conntrack --ctstate NEW -j ACCEPT", rs.Rules[0].ToString());
    }

    [Fact]
    public void IptablesStringRule_Compiles()
    {
        var rs = Compile(InputRules("""{ "Iptables": "-p tcp -m multiport --dports 80,443 -m comment --comment \"web\" -j ACCEPT" }"""));
        Assert.Equal("-A INPUT -p tcp -m multiport --dports 80,443 -m comment --comment web -j ACCEPT", rs.Rules[0].ToString());
    }

    [Fact]
    public void PortList_BecomesMultiport()
    {
        var rs = Compile(InputRules("""{ "Protocol": "udp", "DPort": "53,123,5000:5010", "Action": "ACCEPT" }"""));
        Assert.Equal("-A INPUT -p udp -m multiport --dports 53,123,5000:5010 -j ACCEPT", rs.Rules[0].ToString());
    }

    [Fact]
    public void Inversions_WithBang()
    {
        var rs = Compile(InputRules("""{ "Protocol": "tcp", "Source": "!198.18.0.0/16", "DPort": "!22", "State": [ "!NEW", "RELATED" ], "Action": "DROP" }"""));
        Assert.Equal("-A INPUT ! -s 198.18.0.0/16 -p tcp -m tcp ! --dport 22 -m conntrack ! --ctstate NEW,RELATED -j DROP", rs.Rules[0].ToString());
    }

    [Fact]
    public void MixedFamilySourceList_SplitsByFamily()
    {
        var rs = Compile(InputRules("""{ "Source": "198.18.0.0/24,2001:db8:1::/48", "Action": "ACCEPT" }"""));
        Assert.Equal(2, rs.Rules.Count);
        Assert.Equal(4, rs.Rules[0].Family);
        Assert.Equal(6, rs.Rules[1].Family);
        Assert.Equal(Verdict.Accept, Eval(rs, Tcp("2001:db8:1::5", 1, "2001:db8::1", 22)));
        Assert.Equal(Verdict.Drop, Eval(rs, Tcp("2001:db8:2::5", 1, "2001:db8::1", 22)));
    }

    [Fact]
    public void RuleWithoutFamilySpecifics_AppliesToBoth()
    {
        var rs = Compile(InputRules("""{ "Protocol": "tcp", "DPort": "22", "Action": "ACCEPT" }"""));
        Assert.Equal(0, rs.Rules[0].Family);
        Assert.Equal(Verdict.Accept, Eval(rs, Tcp("198.18.0.1", 1, "198.18.1.1", 22)));
        Assert.Equal(Verdict.Accept, Eval(rs, Tcp("2001:db8::5", 1, "2001:db8::1", 22)));
    }

    [Fact]
    public void DualRule_RejectKindMapsForIpv6()
    {
        var rs = Compile(InputRules("""{ "Action": "REJECT", "RejectWith": "icmp-host-prohibited" }"""));
        Eval(rs, Tcp("198.18.0.1", 1, "198.18.1.1", 22), out var m4);
        Eval(rs, Tcp("2001:db8::5", 1, "2001:db8::1", 22), out var m6);
        Assert.Equal(RejectKind.IcmpHostProhibited, m4.Reject);
        Assert.Equal(RejectKind.Icmp6AdmProhibited, m6.Reject);
    }

    [Fact]
    public void UserChainsRawAndSets_Compile()
    {
        var o = Rules("""
            {
              "Filter": { "Input": { "Policy": "DROP", "Rules": [ { "MatchSet": "blocklist", "Action": "LOGDROP" }, { "Action": "ACCEPT" } ] } },
              "Chains": { "LOGDROP": { "Rules": [ { "Limit": "5/minute", "Action": "LOG", "LogPrefix": "dropped: " }, { "Action": "DROP" } ] } },
              "Raw": { "Prerouting": { "Rules": [ { "Protocol": "tcp", "DPort": "21", "Action": "CT", "Helper": "ftp" }, { "Protocol": "udp", "DPort": "53", "Action": "NOTRACK" } ] } },
              "Sets": { "blocklist": [ "198.18.66.0/24", "2001:db8:bad::/48" ] }
            }
            """);
        Assert.Empty(o.Validate());
        var rs = Compile(o);
        Assert.Equal(Verdict.Drop, Eval(rs, Tcp("198.18.66.1", 1, "198.18.1.1", 22)));
        Assert.Equal(Verdict.Drop, Eval(rs, Tcp("2001:db8:bad::1", 1, "2001:db8::1", 22)));
        Assert.Equal(Verdict.Accept, Eval(rs, Tcp("198.18.67.1", 1, "198.18.1.1", 22)));
        var p = Tcp("198.18.0.1", 1, "198.18.1.1", 21);
        var meta = new PacketMeta("eth0", null, false);
        Assert.Equal(HelperIds.Ftp, rs.EvaluateRaw(RawHook.Prerouting, ref p, in meta, 0, out _).HelperId);
        Assert.Contains("-A LOGDROP -m limit --limit 5/minute -j LOG --log-prefix \"dropped: \"\n", rs.ToIptablesSave(4));
    }

    [Fact]
    public void SaveFiles_AreLoadedThroughTheReader_BeforeJsonRules()
    {
        var o = Rules("""
            { "IptablesSaveFiles": [ "a.v4" ],
              "Filter": { "Input": { "Policy": "DROP", "Rules": [ { "Protocol": "tcp", "DPort": "80", "Action": "ACCEPT" } ] } } }
            """);
        var rs = Compile(o, new() { ["a.v4"] = "*filter\n:INPUT DROP [0:0]\n-A INPUT -s 198.18.0.0/24 -j ACCEPT\nCOMMIT\n" });
        Assert.Equal(["-A INPUT -s 198.18.0.0/24 -j ACCEPT", "-A INPUT -p tcp -m tcp --dport 80 -j ACCEPT"], rs.Rules.Select(r => r.ToString()));
    }

    // ---- the shipped examples ----

    [Fact]
    public void HostFirewallExample_BindsValidatesAndMatchesTheSaveFiles()
    {
        var config = new ConfigurationBuilder().AddJsonFile(RepoFile("deploy/examples/host-firewall.json")).Build();
        var o = new FirewallRulesOptions();
        config.GetSection(FirewallRulesOptions.SectionPath).Bind(o);
        Assert.Empty(o.Validate());
        var rs = Compile(o);
        string Body(string file) => string.Concat(File.ReadAllLines(RepoFile(file)).Where(l => !l.StartsWith('#')).Select(l => l + "\n"));
        Assert.Equal(Body("deploy/examples/rules.v4"), rs.ToIptablesSave(4));
        Assert.Equal(Body("deploy/examples/rules.v6"), rs.ToIptablesSave(6));
    }

    [Fact]
    public void HostFirewallExample_JsonAndSaveFilesGiveTheSameVerdicts()
    {
        var config = new ConfigurationBuilder().AddJsonFile(RepoFile("deploy/examples/host-firewall.json")).Build();
        var o = new FirewallRulesOptions();
        config.GetSection(FirewallRulesOptions.SectionPath).Bind(o);
        var fromJson = Compile(o);
        var b = new RuleSetBuilder();
        IptablesSaveParser.Load(File.ReadAllText(RepoFile("deploy/examples/rules.v4")), "rules.v4", 0, b);
        IptablesSaveParser.Load(File.ReadAllText(RepoFile("deploy/examples/rules.v6")), "rules.v6", 0, b);
        var fromFiles = b.Build();
        Assert.True(fromFiles is not null, string.Join(" | ", b.Errors));

        CtState[] states = [CtState.New, CtState.Established, CtState.Related, CtState.Invalid, CtState.Untracked];
        int checkedCount = 0;
        foreach (string inIf in (string[])["lo", "eth0"])
        foreach (CtState st in states)
        foreach (bool v6 in (bool[])[false, true])
        {
            string a = v6 ? "2001:db8::9" : "198.18.0.9", d = v6 ? "2001:db8::1" : "198.18.1.1";
            foreach (var (p, what) in new (Func<ParsedPacket>, string)[]
                     {
                         (() => Tcp(a, 40000, d, 22, TcpFlags.Syn), "ssh syn"), (() => Tcp(a, 40000, d, 22), "ssh ack"),
                         (() => Tcp(a, 40000, d, 80, TcpFlags.Syn), "http syn"), (() => Udp(a, 5000, d, 53), "dns"),
                         (() => Icmp(a, d, v6 ? (byte)128 : (byte)8), "echo"), (() => Icmp(a, d, v6 ? (byte)135 : (byte)13), "other icmp"),
                     })
            {
                var ct = Conn(st);
                var vj = Eval(fromJson, p(), ct, inIf: inIf);
                var vf = Eval(fromFiles!, p(), ct, inIf: inIf);
                Assert.True(vj == vf, $"{what} v6={v6} {st} on {inIf}: json {vj}, files {vf}");
                checkedCount++;
            }
        }
        Assert.Equal(120, checkedCount);
        // And the policy itself, spelled out:
        Assert.Equal(Verdict.Accept, Eval(fromJson, Tcp("198.18.0.9", 1, "198.18.1.1", 22, TcpFlags.Syn), Conn(CtState.New)));
        Assert.Equal(Verdict.Drop, Eval(fromJson, Tcp("198.18.0.9", 1, "198.18.1.1", 22, TcpFlags.Ack), Conn(CtState.New)));
        Assert.Equal(Verdict.Drop, Eval(fromJson, Tcp("198.18.0.9", 1, "198.18.1.1", 80, TcpFlags.Syn), Conn(CtState.New)));
        Assert.Equal(Verdict.Accept, Eval(fromJson, Icmp("fe80::1", "fe80::2", 135), Conn(CtState.Untracked)));
        Assert.Equal(Verdict.Drop, Eval(fromJson, Icmp("198.18.0.9", "198.18.1.1", 13), Conn(CtState.New)));
    }

    // ---- validation messages (each names its key) ----

    [Fact]
    public void Validate_BadPort_NamesKey() =>
        Assert.Equal("Firewall:Rules:Filter:Input:Rules:3:DPort: \"70000\" is not a port",
            OneError(InputRules("""{ "Action": "ACCEPT" }""", """{ "Action": "ACCEPT" }""", """{ "Action": "ACCEPT" }""",
                """{ "Protocol": "tcp", "DPort": "70000", "Action": "ACCEPT" }""")));

    [Fact]
    public void Validate_PortWithoutProtocol() =>
        Assert.Equal("Firewall:Rules:Filter:Input:Rules:0:DPort: needs Protocol tcp, udp, udplite, sctp or dccp",
            OneError(InputRules("""{ "DPort": "22", "Action": "ACCEPT" }""")));

    [Fact]
    public void Validate_UnknownProtocol() =>
        Assert.Equal("Firewall:Rules:Filter:Input:Rules:0:Protocol: \"tcpp\" is not a protocol",
            OneError(InputRules("""{ "Protocol": "tcpp", "Action": "ACCEPT" }""")));

    [Fact]
    public void Validate_BadPolicy() =>
        Assert.Equal("Firewall:Rules:Filter:Output:Policy: \"REJECT\" is not ACCEPT or DROP",
            OneError(Rules("""{ "Filter": { "Output": { "Policy": "REJECT" } } }""")));

    [Fact]
    public void Validate_MissingAction() =>
        Assert.Equal("Firewall:Rules:Filter:Input:Rules:0:Action: required (ACCEPT, DROP, REJECT, LOG, RETURN, a chain name, or in the raw table CT or NOTRACK)",
            OneError(InputRules("""{ "Protocol": "tcp" }""")));

    [Fact]
    public void Validate_ActionAndGoto() =>
        Assert.Equal("Firewall:Rules:Filter:Input:Rules:0:Goto: cannot be combined with Action",
            OneError(InputRules("""{ "Action": "ACCEPT", "Goto": "X" }""")));

    [Fact]
    public void Validate_UnknownChain() =>
        Assert.Equal("Firewall:Rules:Filter:Input:Rules:0: chain NOWHERE does not exist",
            OneError(InputRules("""{ "Action": "NOWHERE" }""")));

    [Fact]
    public void Validate_RejectWithoutReject() =>
        Assert.Equal("Firewall:Rules:Filter:Input:Rules:0:RejectWith: needs Action REJECT",
            OneError(InputRules("""{ "Action": "DROP", "RejectWith": "tcp-reset" }""")));

    [Fact]
    public void Validate_BadRejectKind() =>
        Assert.Equal("Firewall:Rules:Filter:Input:Rules:0:RejectWith: \"icmp-bogus\" is not a reject type for IPv4 or IPv6",
            OneError(InputRules("""{ "Action": "REJECT", "RejectWith": "icmp-bogus" }""")));

    [Fact]
    public void Validate_TcpResetWithoutTcp() =>
        Assert.Equal("Firewall:Rules:Filter:Input:Rules:0:RejectWith: tcp-reset needs -p tcp (not inverted)",
            OneError(InputRules("""{ "Protocol": "udp", "Action": "REJECT", "RejectWith": "tcp-reset" }""")));

    [Fact]
    public void Validate_IcmpTypeWithoutIcmp() =>
        Assert.Equal("Firewall:Rules:Filter:Input:Rules:0:IcmpType: needs Protocol icmp or icmpv6",
            OneError(InputRules("""{ "IcmpType": "echo-request", "Action": "ACCEPT" }""")));

    [Fact]
    public void Validate_BadIcmpType() =>
        Assert.Equal("Firewall:Rules:Filter:Input:Rules:0:IcmpType: invalid ICMP type \"echo-requets\"",
            OneError(InputRules("""{ "Protocol": "icmp", "IcmpType": "echo-requets", "Action": "ACCEPT" }""")));

    [Fact]
    public void Validate_BadState() =>
        Assert.Equal("Firewall:Rules:Filter:Input:Rules:0:State: bad state \"ESTABLISHD\"",
            OneError(InputRules("""{ "State": [ "ESTABLISHD" ], "Action": "ACCEPT" }""")));

    [Fact]
    public void Validate_BangOnLaterStateItem() =>
        Assert.Equal("Firewall:Rules:Filter:Input:Rules:0:State:1: only the first item may start with \"!\" (it inverts the whole list)",
            OneError(InputRules("""{ "State": [ "NEW", "!RELATED" ], "Action": "ACCEPT" }""")));

    [Fact]
    public void Validate_BadStatus() =>
        Assert.Equal("Firewall:Rules:Filter:Input:Rules:0:CtStatus: bad status \"SEEN\"",
            OneError(InputRules("""{ "CtStatus": [ "SEEN" ], "Action": "ACCEPT" }""")));

    [Fact]
    public void Validate_BadDirection() =>
        Assert.Equal("Firewall:Rules:Filter:Input:Rules:0:CtDirection: \"BOTH\" is not ORIGINAL or REPLY",
            OneError(InputRules("""{ "CtDirection": "BOTH", "Action": "ACCEPT" }""")));

    [Fact]
    public void Validate_BadSource() =>
        Assert.Equal("Firewall:Rules:Filter:Input:Rules:0:Source: \"198.18.0.0/33\": prefix length 33 is larger than 32",
            OneError(InputRules("""{ "Source": "198.18.0.0/33", "Action": "ACCEPT" }""")));

    [Fact]
    public void Validate_FamilyConflict() =>
        Assert.Equal("Firewall:Rules:Filter:Input:Rules:0:Destination: 2001:db8::1 is IPv6, but the rule is IPv4",
            OneError(InputRules("""{ "Family": "IPv4", "Destination": "2001:db8::1", "Action": "ACCEPT" }""")));

    [Fact]
    public void Validate_BadFamily() =>
        Assert.Equal("Firewall:Rules:Filter:Input:Rules:0:Family: \"IPv5\" is not IPv4 or IPv6",
            OneError(InputRules("""{ "Family": "IPv5", "Action": "ACCEPT" }""")));

    [Fact]
    public void Validate_BadInterface() =>
        Assert.Equal("Firewall:Rules:Filter:Input:Rules:0:InInterface: interface name \"averyveryverylongname\" must be 1 to 15 characters",
            OneError(InputRules("""{ "InInterface": "averyveryverylongname", "Action": "ACCEPT" }""")));

    [Fact]
    public void Validate_OutInterfaceInInput() =>
        Assert.Equal("Firewall:Rules:Filter:Input:Rules:0:OutInterface: can't use -o with INPUT",
            OneError(InputRules("""{ "OutInterface": "eth0", "Action": "ACCEPT" }""")));

    [Fact]
    public void Validate_SynWithoutTcp() =>
        Assert.Equal("Firewall:Rules:Filter:Input:Rules:0:Syn: needs Protocol tcp",
            OneError(InputRules("""{ "Protocol": "udp", "Syn": true, "Action": "ACCEPT" }""")));

    [Fact]
    public void Validate_BadTcpFlags() =>
        Assert.Equal("Firewall:Rules:Filter:Input:Rules:0:TcpFlags: \"SYN\" is not \"MASK COMPARE\" (e.g. \"FIN,SYN,RST,ACK SYN\")",
            OneError(InputRules("""{ "Protocol": "tcp", "TcpFlags": "SYN", "Action": "ACCEPT" }""")));

    [Fact]
    public void Validate_BadLimit() =>
        Assert.Equal("Firewall:Rules:Filter:Input:Rules:0:Limit: bad rate \"5/fortnight\" (N/sec, N/minute, N/hour or N/day)",
            OneError(InputRules("""{ "Limit": "5/fortnight", "Action": "ACCEPT" }""")));

    [Fact]
    public void Validate_BadLimitBurst() =>
        Assert.Equal("Firewall:Rules:Filter:Input:Rules:0:LimitBurst: bad --limit-burst \"0\" (1 to 10000)",
            OneError(InputRules("""{ "Limit": "5/sec", "LimitBurst": 0, "Action": "ACCEPT" }""")));

    [Fact]
    public void Validate_UnknownSet() =>
        Assert.Equal("Firewall:Rules:Filter:Input:Rules:0:MatchSet: set \"nosuch\" does not exist (define it under Firewall:Rules:Sets)",
            OneError(InputRules("""{ "MatchSet": "nosuch", "Action": "DROP" }""")));

    [Fact]
    public void Validate_BadSetDirection() =>
        Assert.Equal("Firewall:Rules:Filter:Input:Rules:0:MatchSetDirection: \"both\": a set of networks takes one direction, src or dst",
            OneError(Rules("""{ "Sets": { "s": [ "198.18.0.0/24" ] }, "Filter": { "Input": { "Rules": [ { "MatchSet": "s", "MatchSetDirection": "both", "Action": "DROP" } ] } } }""")));

    [Fact]
    public void Validate_BadSetEntry() =>
        Assert.Equal("Firewall:Rules:Sets:blocklist:1: \"198.18.0.300\" is not an IP address or network (host names are not resolved)",
            OneError(Rules("""{ "Sets": { "blocklist": [ "198.18.0.0/24", "198.18.0.300" ] } }""")));

    [Fact]
    public void Validate_HelperNeedsCt() =>
        Assert.Equal("Firewall:Rules:Raw:Prerouting:Rules:0:Helper: needs Action CT",
            OneError(Rules("""{ "Raw": { "Prerouting": { "Rules": [ { "Protocol": "tcp", "Helper": "ftp", "Action": "ACCEPT" } ] } } }""")));

    [Fact]
    public void Validate_HelperWithoutProtocol() =>
        Assert.Equal("Firewall:Rules:Raw:Prerouting:Rules:0:Helper: you must specify a L4 protocol (-p tcp or -p udp) and not use inversions on it",
            OneError(Rules("""{ "Raw": { "Prerouting": { "Rules": [ { "Helper": "ftp", "Action": "CT" } ] } } }""")));

    [Fact]
    public void Validate_CtInFilter() =>
        Assert.Equal("Firewall:Rules:Filter:Input:Rules:0:Action: CT and NOTRACK are only valid in the raw table",
            OneError(InputRules("""{ "Action": "NOTRACK" }""")));

    [Fact]
    public void Validate_BuiltinNameInChains() =>
        Assert.Equal("Firewall:Rules:Chains:INPUT: INPUT is a built-in chain; configure it under Filter",
            OneError(Rules("""{ "Chains": { "INPUT": { "Rules": [] } } }""")));

    [Fact]
    public void Validate_BadChainName() =>
        Assert.Equal("Firewall:Rules:Chains:ACCEPT: chain name \"ACCEPT\" is a target name",
            OneError(Rules("""{ "Chains": { "ACCEPT": { "Rules": [] } } }""")));

    [Fact]
    public void Validate_ChainLoop() =>
        Assert.Equal("Firewall:Rules:Chains:B:Rules:0: chain loop A -> B -> A",
            OneError(Rules("""{ "Chains": { "A": { "Rules": [ { "Action": "B" } ] }, "B": { "Rules": [ { "Goto": "A" } ] } } }""")));

    [Fact]
    public void Validate_IptablesCombinedWithKeys() =>
        Assert.Equal("Firewall:Rules:Filter:Input:Rules:0:Iptables: cannot be combined with Protocol, Action (write the whole rule in iptables syntax)",
            OneError(InputRules("""{ "Iptables": "-j ACCEPT", "Protocol": "tcp", "Action": "ACCEPT" }""")));

    [Fact]
    public void Validate_IptablesWithChain() =>
        Assert.Equal("Firewall:Rules:Filter:Input:Rules:0:Iptables: leave out \"-A CHAIN\"; the chain is given by where the rule is",
            OneError(InputRules("""{ "Iptables": "-A INPUT -j ACCEPT" }""")));

    [Fact]
    public void Validate_IptablesBadOption_NamesOption() =>
        Assert.Equal("Firewall:Rules:Filter:Input:Rules:0:Iptables: --dport: \"70000\" is not a port",
            OneError(InputRules("""{ "Iptables": "-p tcp --dport 70000 -j ACCEPT" }""")));

    [Fact]
    public void Validate_IptablesUnsupportedMatch() =>
        Assert.Equal("Firewall:Rules:Filter:Input:Rules:0:Iptables: unsupported match -m recent",
            OneError(InputRules("""{ "Iptables": "-m recent --rcheck -j DROP" }""")));

    [Fact]
    public void Validate_BadSaveFileFamily() =>
        Assert.Equal("Firewall:Rules:IptablesSaveFiles:0:Family: \"v7\" is not IPv4 or IPv6",
            OneError(Rules("""{ "IptablesSaveFiles": [ { "Path": "x", "Family": "v7" } ] }""")));

    [Fact]
    public void Validate_SaveFileWithoutPath() =>
        Assert.Equal("Firewall:Rules:IptablesSaveFiles:0:Path: a file path is required",
            OneError(Rules("""{ "IptablesSaveFiles": [ { "Family": "IPv4" } ] }""")));

    [Fact]
    public void Validate_LogRingSize() =>
        Assert.Equal("Firewall:Rules:Log:RingSize: must be between 2 and 1048576 (got 0)",
            OneError(Rules("""{ "Log": { "RingSize": 0 } }""")));

    [Fact]
    public void Compile_UnreadableFile_NamesKey()
    {
        var o = Rules("""{ "IptablesSaveFiles": [ "/nonexistent/rules.v4" ] }""");
        RulesConfigCompiler.Compile(o, p => throw new FileNotFoundException("no such file"), null, out var errors);
        Assert.Equal("Firewall:Rules:IptablesSaveFiles:0:Path: cannot read \"/nonexistent/rules.v4\": no such file", Assert.Single(errors));
    }

    [Fact]
    public void Compile_ErrorInFile_NamesFileAndLine()
    {
        var o = Rules("""{ "IptablesSaveFiles": [ "rules.v4" ] }""");
        RulesConfigCompiler.Compile(o, _ => "*nat\nCOMMIT\n", null, out var errors);
        Assert.Equal("rules.v4: cannot tell whether the file is IPv4 or IPv6 (no addresses or ICMP rules); name the family", Assert.Single(errors));
        o = Rules("""{ "IptablesSaveFiles": [ { "Path": "rules.v4", "Family": "IPv4" } ] }""");
        RulesConfigCompiler.Compile(o, _ => "*nat\nCOMMIT\n", null, out errors);
        Assert.Equal("rules.v4:1: unsupported table *nat (only *filter and *raw are supported)", Assert.Single(errors));
    }

    [Fact]
    public void Compile_PolicyConflictWithFile_NamesBoth()
    {
        var o = Rules("""{ "IptablesSaveFiles": [ { "Path": "rules.v4", "Family": "IPv4" } ], "Filter": { "Input": { "Policy": "ACCEPT" } } }""");
        RulesConfigCompiler.Compile(o, _ => "*filter\n:INPUT DROP [0:0]\nCOMMIT\n", null, out var errors);
        Assert.Equal("Firewall:Rules:Filter:Input:Policy: policy ACCEPT for INPUT conflicts with rules.v4:2 (DROP)", Assert.Single(errors));
    }
}
