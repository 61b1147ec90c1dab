namespace Firewall.Core.Rules.Parsing;

/// <summary>A rule text error: the message, the option it concerns (if any) and the argument index it was found at.</summary>
public sealed class RuleParseException : Exception
{
    /// <summary>The option being parsed (<c>--dport</c>), or null when the message names what is wrong by itself.</summary>
    public string? Option { get; }
    /// <summary>Index of the offending argument in the rule's argument list, or -1 when the rule as a whole is wrong.</summary>
    public int ArgIndex { get; }
    /// <summary>The message without the option.</summary>
    public string Detail { get; }

    public RuleParseException(string? option, string detail, int argIndex)
        : base(option is null ? detail : option + ": " + detail)
    {
        Option = option;
        Detail = detail;
        ArgIndex = argIndex;
    }
}

/// <summary>Walks a rule's argument list; remembers where the current option started for error messages.</summary>
public sealed class ArgCursor
{
    private readonly IReadOnlyList<string> _args;
    public int Pos { get; private set; }
    /// <summary>Index of the option being parsed.</summary>
    public int OptionIndex { get; internal set; } = -1;
    /// <summary>Name of the option being parsed.</summary>
    public string? Option { get; internal set; }

    public ArgCursor(IReadOnlyList<string> args, int start = 0) { _args = args; Pos = start; }

    public bool AtEnd => Pos >= _args.Count;
    public string Peek() => _args[Pos];
    public string Take() => _args[Pos++];
    public int Count => _args.Count;

    /// <summary>The option's value; an error naming the option when the list ends or the next word is an option.</summary>
    public string Value()
    {
        if (AtEnd || (_args[Pos].StartsWith('-') && _args[Pos].Length > 1 && !char.IsDigit(_args[Pos][1])))
            throw Error("needs a value");
        return _args[Pos++];
    }

    /// <summary>An error about the current option at the current option's index.</summary>
    public RuleParseException Error(string detail) => new(Option, detail, OptionIndex);
    /// <summary>An error about the value just read.</summary>
    public RuleParseException ValueError(string detail) => new(Option, detail, Pos - 1);
}
