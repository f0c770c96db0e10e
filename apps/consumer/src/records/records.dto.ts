import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsInt,
  IsISO8601,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
} from 'class-validator';

/** Filters of the list endpoints (all optional), newest first, cursor paging. */
export class ListRecordsQuery {
  @ApiPropertyOptional({ description: 'HTTP status', example: 401 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(599)
  status?: number;

  @ApiPropertyOptional({
    description: 'Path prefix (exact characters, no wildcards)',
    example: '/api/v0/',
  })
  @IsOptional()
  @IsString()
  @MaxLength(1024)
  path_prefix?: string;

  @ApiPropertyOptional({ description: 'Records that started at or after (ISO 8601)' })
  @IsOptional()
  @IsISO8601({ strict: true })
  from?: string;

  @ApiPropertyOptional({ description: 'Records that started before (ISO 8601)' })
  @IsOptional()
  @IsISO8601({ strict: true })
  to?: string;

  @ApiPropertyOptional({ description: 'Page size (default 50, max QUERY_MAX_LIMIT)' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(10_000)
  limit?: number;

  @ApiPropertyOptional({ description: '`next_cursor` of the previous page' })
  @IsOptional()
  @IsString()
  @MaxLength(512)
  @Matches(/^[A-Za-z0-9_-]+$/)
  cursor?: string;
}

export class AdminListRecordsQuery extends ListRecordsQuery {
  @ApiPropertyOptional({ description: 'Only this tenant (default: every tenant)' })
  @IsOptional()
  @IsString()
  @MaxLength(256)
  tenant?: string;
}

export class BodyView {
  @ApiProperty({ description: 'Body bytes (redacted by the logging processor), base64' })
  content_base64!: string;
  @ApiProperty()
  truncated!: boolean;
}

/** One stored record, as the API returns it. */
export class RecordView {
  @ApiProperty() request_id!: string;
  @ApiProperty() tenant!: string;
  @ApiProperty() user_id!: string;
  @ApiProperty() key_id!: string;
  @ApiProperty() auth_via!: string;
  @ApiProperty({ description: '0 when the response was not observed' }) status!: number;
  @ApiProperty() method!: string;
  @ApiProperty() scheme!: string;
  @ApiProperty() authority!: string;
  @ApiProperty() path!: string;
  @ApiProperty() query!: string;
  @ApiProperty() client_address!: string;
  @ApiProperty() started_at!: string;
  @ApiProperty() ended_at!: string;
  @ApiProperty() duration_us!: number;
  @ApiProperty({ description: '-1 when unknown' }) request_size!: number;
  @ApiProperty({ description: '-1 when unknown' }) response_size!: number;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' } })
  request_headers!: Record<string, string>;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' } })
  response_headers!: Record<string, string>;
  @ApiProperty() route!: string;
  @ApiProperty({ type: [String] }) processors!: string[];
  @ApiProperty() response_code_details!: string;
  @ApiPropertyOptional({ type: BodyView, nullable: true }) request_body!: BodyView | null;
  @ApiPropertyOptional({ type: BodyView, nullable: true }) response_body!: BodyView | null;
}

export class RecordPage {
  @ApiProperty({ type: [RecordView] }) records!: RecordView[];
  @ApiPropertyOptional({ nullable: true, description: 'Pass as `cursor` for the next page' })
  next_cursor!: string | null;
}

export class ErrorBody {
  @ApiProperty() message!: string;
  @ApiProperty() status!: number;
  @ApiProperty() details!: string;
}
